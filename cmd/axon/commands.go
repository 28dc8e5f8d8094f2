package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/userapi"
)

func generateConfigCmd(args []string) error {
	fs := flag.NewFlagSet("generate-config", flag.ContinueOnError)
	serverName := fs.String("server-name", "localhost:8008", "the server name (the part after ':' in user IDs)")
	out := fs.String("out", "", "write to this file instead of standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	text := config.Example(*serverName)
	if _, err := config.Parse([]byte(text)); err != nil {
		return fmt.Errorf("internal error: example config invalid: %w", err)
	}
	if *out == "" {
		fmt.Print(text)
		return nil
	}
	return os.WriteFile(*out, []byte(text), 0o600)
}

// createAccountCmd opens only the userapi's database: it works whether or
// not the server is running (SQLite's single-writer rule is per process,
// so it waits on the file lock instead of failing).
func createAccountCmd(args []string) error {
	fs := flag.NewFlagSet("create-account", flag.ContinueOnError)
	configPath := fs.String("config", "axon.yaml", "path to the config file")
	user := fs.String("user", "", "localpart of the new user (alice for @alice:server)")
	password := fs.String("password", "", "password (read from standard input if omitted)")
	admin := fs.Bool("admin", false, "make the user a server admin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" {
		return fmt.Errorf("--user is required")
	}
	if *password == "" {
		fmt.Fprint(os.Stderr, "Password: ")
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return err
		}
		*password = strings.TrimRight(line, "\r\n")
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := &setup.Base{Cfg: cfg, Log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	defer base.CloseDatabases()
	users, err := userapi.New(ctx, base)
	if err != nil {
		return err
	}
	defer users.Close()
	userID, err := users.CreateAccount(ctx, *user, *password, *admin)
	if err != nil {
		return err
	}
	fmt.Println("created", userID)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
