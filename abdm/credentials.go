package abdm

import (
	"context"
	"fmt"
	"log/slog"
)

// ClientCredentials are a tenant's gateway client id and secret. The secret
// is redacted when the value is printed or logged.
type ClientCredentials struct {
	ClientID     string
	ClientSecret string
}

// String implements fmt.Stringer without the secret.
func (c ClientCredentials) String() string {
	return fmt.Sprintf("{ClientID:%s ClientSecret:REDACTED}", c.ClientID)
}

// GoString implements fmt.GoStringer without the secret, so %#v is safe too.
func (c ClientCredentials) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the secret.
func (c ClientCredentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("client_id", c.ClientID))
}

// Credentials looks up a tenant's gateway client credentials. The key store
// implements it, so secrets stay out of configuration and are fetched only
// when a session token is needed.
type Credentials interface {
	ClientCredentials(ctx context.Context, tenant string) (ClientCredentials, error)
}

// CredentialsFunc adapts a function to Credentials.
type CredentialsFunc func(ctx context.Context, tenant string) (ClientCredentials, error)

// ClientCredentials implements Credentials.
func (f CredentialsFunc) ClientCredentials(ctx context.Context, tenant string) (ClientCredentials, error) {
	return f(ctx, tenant)
}
