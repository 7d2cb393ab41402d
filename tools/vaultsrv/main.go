// Command vaultsrv is HashiCorp Vault v1.19.0 built from the Go module proxy,
// used only to run a dev server for Sangam's tests. It lives in its own module
// so Vault's very large dependency graph stays out of the application's go.mod.
// Vault is BUSL-1.1 licensed; Sangam does not ship this binary.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() { os.Exit(command.Run(os.Args[1:])) }
