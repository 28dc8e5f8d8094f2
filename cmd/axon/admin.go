package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"text/tabwriter"
	"time"
)

const adminUsage = `axon admin — administer a running server through its admin API

Usage:
  axon admin [--url URL] [--token TOKEN] COMMAND [flags]

  --url defaults to $AXON_URL or http://localhost:8008; --token to
  $AXON_ADMIN_TOKEN (an access token of a server admin).

Commands:
  server-version
  users list [--name TEXT] [--deactivated] [--limit N]
  users create --user NAME [--password P] [--admin] [--displayname D]
  users reset-password --user NAME --password P [--keep-devices]
  users deactivate --user NAME
  users make-admin --user NAME [--revoke]
  rooms list [--search TEXT] [--limit N]
  rooms delete ROOM_ID [--purge=false] [--force-purge] [--block]
      [--new-room-user NAME [--room-name N] [--message M]] [--no-wait]
  rooms delete-status ROOM_ID | --id DELETE_ID
  rooms block ROOM_ID [--unblock]
  reports list [--room ROOM_ID] [--user NAME] [--limit N]
  tokens list
  tokens create [--token T] [--uses N] [--expires DURATION]
  tokens delete --token T
  notice --user NAME --message TEXT
  media list --user NAME [--limit N]
  media quarantine (--mxc URI [--undo] | --room ROOM_ID | --user NAME)
  media delete --mxc URI
  media delete-old --older-than DURATION [--larger-than BYTES] [--delete-avatars]
  media purge-remote --older-than DURATION

NAME is a localpart (alice) or a user ID (@alice:example.org).
`

// adminCmd runs `axon admin ...`, writing results to out.
func adminCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.SetOutput(out)
	base := fs.String("url", envOr("AXON_URL", "http://localhost:8008"), "the server's client API base URL")
	token := fs.String("token", os.Getenv("AXON_ADMIN_TOKEN"), "an admin's access token")
	fs.Usage = func() { fmt.Fprint(out, adminUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fs.Usage()
		return errors.New("no admin command given")
	}
	if *token == "" {
		return errors.New("an admin access token is needed: --token or $AXON_ADMIN_TOKEN")
	}
	c := newAdminClient(*base, *token)
	cmd, rest := rest[0], rest[1:]
	if cmd == "users" || cmd == "rooms" || cmd == "tokens" || cmd == "media" || cmd == "reports" {
		if len(rest) == 0 {
			return fmt.Errorf("%s: which action? (see axon admin --help)", cmd)
		}
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	run, ok := adminCommands[cmd]
	if !ok {
		fs.Usage()
		return fmt.Errorf("unknown admin command %q", cmd)
	}
	return run(ctx, c, rest, out)
}

type adminCommand func(ctx context.Context, c *adminClient, args []string, out io.Writer) error

var adminCommands = map[string]adminCommand{
	"server-version":       adminServerVersion,
	"users list":           adminUsersList,
	"users create":         adminUsersCreate,
	"users reset-password": adminUsersResetPassword,
	"users deactivate":     adminUsersDeactivate,
	"users make-admin":     adminUsersMakeAdmin,
	"rooms list":           adminRoomsList,
	"tokens list":          adminTokensList,
	"tokens create":        adminTokensCreate,
	"tokens delete":        adminTokensDelete,
	"notice":               adminNotice,
	"media list":           adminMediaList,
	"media quarantine":     adminMediaQuarantine,
	"media delete":         adminMediaDelete,
	"media delete-old":     adminMediaDeleteOld,
	"media purge-remote":   adminMediaPurgeRemote,
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// parseFlags parses a subcommand's flags and requires the named ones.
func parseFlags(fs *flag.FlagSet, args []string, out io.Writer, required ...string) error {
	fs.SetOutput(out)
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, name := range required {
		if fs.Lookup(name).Value.String() == "" {
			return fmt.Errorf("%s: --%s is required", fs.Name(), name)
		}
	}
	return nil
}

func adminServerVersion(ctx context.Context, c *adminClient, _ []string, out io.Writer) error {
	var v struct {
		ServerVersion string `json:"server_version"`
	}
	if err := c.do(ctx, "GET", "/_synapse/admin/v1/server_version", nil, &v); err != nil {
		return err
	}
	fmt.Fprintln(out, v.ServerVersion)
	return nil
}

func adminUsersList(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("users list", flag.ContinueOnError)
	name := fs.String("name", "", "only users whose ID or display name contains this")
	deactivated := fs.Bool("deactivated", false, "include deactivated users")
	limit := fs.Int("limit", 100, "at most this many")
	if err := parseFlags(fs, args, out); err != nil {
		return err
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}, "deactivated": {strconv.FormatBool(*deactivated)}}
	if *name != "" {
		q.Set("name", *name)
	}
	var page struct {
		Users []struct {
			Name        string `json:"name"`
			DisplayName string `json:"displayname"`
			Admin       bool   `json:"admin"`
			Deactivated bool   `json:"deactivated"`
			IsGuest     bool   `json:"is_guest"`
			CreationTS  int64  `json:"creation_ts"`
		} `json:"users"`
		Total int `json:"total"`
	}
	if err := c.do(ctx, "GET", "/_synapse/admin/v2/users?"+q.Encode(), nil, &page); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tDISPLAY NAME\tADMIN\tDEACTIVATED\tGUEST\tCREATED")
	for _, u := range page.Users {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%v\t%s\n", u.Name, u.DisplayName, u.Admin, u.Deactivated, u.IsGuest,
			time.UnixMilli(u.CreationTS).UTC().Format(time.DateTime))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d of %d users\n", len(page.Users), page.Total)
	return nil
}

func adminUsersCreate(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("users create", flag.ContinueOnError)
	user := fs.String("user", "", "localpart or user ID")
	password := fs.String("password", "", "password (none: the user cannot log in with a password)")
	admin := fs.Bool("admin", false, "make the user a server admin")
	displayName := fs.String("displayname", "", "display name")
	if err := parseFlags(fs, args, out, "user"); err != nil {
		return err
	}
	userID, err := c.userID(ctx, *user)
	if err != nil {
		return err
	}
	body := map[string]any{"admin": *admin}
	if *password != "" {
		body["password"] = *password
	}
	if *displayName != "" {
		body["displayname"] = *displayName
	}
	var got struct {
		Name string `json:"name"`
	}
	if err := c.do(ctx, "PUT", "/_synapse/admin/v2/users/"+esc(userID), body, &got); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s saved\n", got.Name)
	return nil
}

func adminUsersResetPassword(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("users reset-password", flag.ContinueOnError)
	user := fs.String("user", "", "localpart or user ID")
	password := fs.String("password", "", "the new password")
	keep := fs.Bool("keep-devices", false, "do not log the user's devices out")
	if err := parseFlags(fs, args, out, "user", "password"); err != nil {
		return err
	}
	userID, err := c.userID(ctx, *user)
	if err != nil {
		return err
	}
	if err := c.do(ctx, "POST", "/_synapse/admin/v1/reset_password/"+esc(userID),
		map[string]any{"new_password": *password, "logout_devices": !*keep}, nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "password of %s reset\n", userID)
	return nil
}

func adminUsersDeactivate(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("users deactivate", flag.ContinueOnError)
	user := fs.String("user", "", "localpart or user ID")
	if err := parseFlags(fs, args, out, "user"); err != nil {
		return err
	}
	userID, err := c.userID(ctx, *user)
	if err != nil {
		return err
	}
	if err := c.do(ctx, "POST", "/_synapse/admin/v1/deactivate/"+esc(userID), map[string]any{}, nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s deactivated\n", userID)
	return nil
}

func adminUsersMakeAdmin(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("users make-admin", flag.ContinueOnError)
	user := fs.String("user", "", "localpart or user ID")
	revoke := fs.Bool("revoke", false, "take server admin away instead")
	if err := parseFlags(fs, args, out, "user"); err != nil {
		return err
	}
	userID, err := c.userID(ctx, *user)
	if err != nil {
		return err
	}
	if err := c.do(ctx, "PUT", "/_synapse/admin/v1/users/"+esc(userID)+"/admin", map[string]any{"admin": !*revoke}, nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s admin: %v\n", userID, !*revoke)
	return nil
}

func adminRoomsList(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("rooms list", flag.ContinueOnError)
	search := fs.String("search", "", "only rooms whose name, alias or ID contains this")
	limit := fs.Int("limit", 100, "at most this many")
	if err := parseFlags(fs, args, out); err != nil {
		return err
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	if *search != "" {
		q.Set("search_term", *search)
	}
	var page struct {
		Rooms []struct {
			RoomID        string  `json:"room_id"`
			Name          *string `json:"name"`
			Alias         *string `json:"canonical_alias"`
			JoinedMembers int     `json:"joined_members"`
			LocalMembers  int     `json:"joined_local_members"`
			Public        bool    `json:"public"`
		} `json:"rooms"`
		Total int `json:"total_rooms"`
	}
	if err := c.do(ctx, "GET", "/_synapse/admin/v1/rooms?"+q.Encode(), nil, &page); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROOM\tNAME\tALIAS\tMEMBERS\tLOCAL\tPUBLIC")
	for _, r := range page.Rooms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%v\n", r.RoomID, deref(r.Name), deref(r.Alias), r.JoinedMembers, r.LocalMembers, r.Public)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d of %d rooms\n", len(page.Rooms), page.Total)
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

type tokenJSON struct {
	Token       string `json:"token"`
	UsesAllowed *int64 `json:"uses_allowed"`
	Pending     int64  `json:"pending"`
	Completed   int64  `json:"completed"`
	ExpiryTime  *int64 `json:"expiry_time"`
}

func adminTokensList(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	var list struct {
		Tokens []tokenJSON `json:"registration_tokens"`
	}
	if err := c.do(ctx, "GET", "/_synapse/admin/v1/registration_tokens", nil, &list); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOKEN\tUSES ALLOWED\tUSED\tEXPIRES")
	for _, t := range list.Tokens {
		uses, expires := "unlimited", "never"
		if t.UsesAllowed != nil {
			uses = strconv.FormatInt(*t.UsesAllowed, 10)
		}
		if t.ExpiryTime != nil {
			expires = time.UnixMilli(*t.ExpiryTime).UTC().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", t.Token, uses, t.Completed+t.Pending, expires)
	}
	return tw.Flush()
}

func adminTokensCreate(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("tokens create", flag.ContinueOnError)
	token := fs.String("token", "", "the token (default: 16 random characters)")
	uses := fs.Int64("uses", -1, "how many registrations it allows (default unlimited)")
	expires := fs.Duration("expires", 0, "valid for this long (e.g. 72h; default forever)")
	if err := parseFlags(fs, args, out); err != nil {
		return err
	}
	body := map[string]any{}
	if *token != "" {
		body["token"] = *token
	}
	if *uses >= 0 {
		body["uses_allowed"] = *uses
	}
	if *expires > 0 {
		body["expiry_time"] = time.Now().Add(*expires).UnixMilli()
	}
	var got tokenJSON
	if err := c.do(ctx, "POST", "/_synapse/admin/v1/registration_tokens/new", body, &got); err != nil {
		return err
	}
	fmt.Fprintln(out, got.Token)
	return nil
}

func adminTokensDelete(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("tokens delete", flag.ContinueOnError)
	token := fs.String("token", "", "the token")
	if err := parseFlags(fs, args, out, "token"); err != nil {
		return err
	}
	if err := c.do(ctx, "DELETE", "/_synapse/admin/v1/registration_tokens/"+esc(*token), nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "token %s deleted\n", *token)
	return nil
}

func adminNotice(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("notice", flag.ContinueOnError)
	user := fs.String("user", "", "localpart or user ID")
	message := fs.String("message", "", "the notice's text")
	if err := parseFlags(fs, args, out, "user", "message"); err != nil {
		return err
	}
	userID, err := c.userID(ctx, *user)
	if err != nil {
		return err
	}
	var got struct {
		EventID string `json:"event_id"`
	}
	if err := c.do(ctx, "POST", "/_synapse/admin/v1/send_server_notice", map[string]any{
		"user_id": userID, "content": map[string]any{"msgtype": "m.server_notice", "body": *message},
	}, &got); err != nil {
		return err
	}
	fmt.Fprintf(out, "notice %s sent to %s\n", got.EventID, userID)
	return nil
}
