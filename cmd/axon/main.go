// Command axon is the Axon homeserver: one binary that runs the server
// (all components, or a chosen set), writes a commented config, and
// creates accounts.
package main

import (
	"context"
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

const usage = `axon — a Matrix homeserver

Usage:
  axon [run] [--config axon.yaml]             run the server (default command)
  axon generate-config [--server-name NAME]   print a commented config with a new signing key
  axon create-account --user NAME [--password P] [--admin] [--config axon.yaml]
  axon admin [--url URL] [--token T] COMMAND  administer a running server (axon admin --help)
  axon backup [--config axon.yaml] [--out DIR]  consistent copy of the SQLite databases and the signing key, while running
  axon version

On first run without a config file, 'axon run' writes axon.yaml (server name
localhost:8008, SQLite and embedded NATS under ./data) and starts on it.
`

func main() {
	args := os.Args[1:]
	cmd := "run"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "run":
		err = runCmd(args)
	case "generate-config":
		err = generateConfigCmd(args)
	case "create-account":
		err = createAccountCmd(args)
	case "admin":
		err = adminCmd(context.Background(), args, os.Stdout)
	case "backup":
		err = backupCmd(context.Background(), args, os.Stdout)
	case "version", "--version":
		fmt.Println("axon", version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "axon:", err)
		os.Exit(1)
	}
}
