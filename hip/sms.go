package hip

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// WebhookSMS sends link OTPs by posting {"phone","from","text"} to an SMS
// provider's webhook, the shape most Indian SMS gateways (and the sandbox's
// phone inbox) accept. The message text holds the OTP; nothing here logs it.
type WebhookSMS struct {
	URL    string
	From   string // sender name shown on the phone, e.g. the hospital's
	Client *http.Client
}

// SendLinkOTP implements OTPSender.
func (w WebhookSMS) SendLinkOTP(ctx context.Context, tenant, mobile, otp string, expires time.Time) error {
	text := fmt.Sprintf("%s is your OTP to link your health records with %s. It is valid until %s. Do not share it.",
		otp, w.From, expires.In(istLocation()).Format("15:04"))
	body, err := json.Marshal(map[string]string{"phone": mobile, "from": w.From, "text": text})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("SMS webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("SMS webhook: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("SMS webhook answered %s", res.Status)
	}
	return nil
}
