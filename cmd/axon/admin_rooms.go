package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// `axon admin rooms delete|block|delete-status` and `reports list`.

func init() {
	adminCommands["rooms delete"] = adminRoomsDelete
	adminCommands["rooms delete-status"] = adminRoomsDeleteStatus
	adminCommands["rooms block"] = adminRoomsBlock
	adminCommands["reports list"] = adminReportsList
}

// roomArg takes a leading room ID (rooms delete !abc:example.org --block),
// leaving the flags.
func roomArg(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

type deleteStatus struct {
	DeleteID     string `json:"delete_id"`
	RoomID       string `json:"room_id"`
	Status       string `json:"status"`
	Error        string `json:"error"`
	ShutdownRoom struct {
		KickedUsers       []string `json:"kicked_users"`
		FailedToKickUsers []string `json:"failed_to_kick_users"`
		LocalAliases      []string `json:"local_aliases"`
		NewRoomID         *string  `json:"new_room_id"`
	} `json:"shutdown_room"`
}

func printDeleteStatus(out io.Writer, s deleteStatus) {
	fmt.Fprintf(out, "delete %s of %s: %s\n", s.DeleteID, s.RoomID, s.Status)
	if s.Error != "" {
		fmt.Fprintf(out, "error: %s\n", s.Error)
	}
	r := s.ShutdownRoom
	fmt.Fprintf(out, "kicked: %s\n", strings.Join(r.KickedUsers, " "))
	if len(r.FailedToKickUsers) > 0 {
		fmt.Fprintf(out, "failed to kick: %s\n", strings.Join(r.FailedToKickUsers, " "))
	}
	if len(r.LocalAliases) > 0 {
		fmt.Fprintf(out, "aliases moved: %s\n", strings.Join(r.LocalAliases, " "))
	}
	if r.NewRoomID != nil {
		fmt.Fprintf(out, "new room: %s\n", *r.NewRoomID)
	}
}

func adminRoomsDelete(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	room, args := roomArg(args)
	fs := flag.NewFlagSet("rooms delete", flag.ContinueOnError)
	roomFlag := fs.String("room", room, "the room ID")
	purge := fs.Bool("purge", true, "remove the room's events and state from the database")
	forcePurge := fs.Bool("force-purge", false, "purge even if local users remain joined")
	block := fs.Bool("block", false, "block the room: nobody may join it again")
	newRoomUser := fs.String("new-room-user", "", "move local members to a new room created by this local user")
	roomName := fs.String("room-name", "", "the new room's name")
	message := fs.String("message", "", "the first message in the new room")
	noWait := fs.Bool("no-wait", false, "print the delete ID and return without waiting")
	timeout := fs.Duration("timeout", 10*time.Minute, "how long to wait for the deletion")
	if err := parseFlags(fs, args, out, "room"); err != nil {
		return err
	}
	body := map[string]any{"purge": *purge, "force_purge": *forcePurge, "block": *block}
	if *newRoomUser != "" {
		u, err := c.userID(ctx, *newRoomUser)
		if err != nil {
			return err
		}
		body["new_room_user_id"] = u
	}
	if *roomName != "" {
		body["room_name"] = *roomName
	}
	if *message != "" {
		body["message"] = *message
	}
	var started struct {
		DeleteID string `json:"delete_id"`
	}
	if err := c.do(ctx, "DELETE", "/_synapse/admin/v2/rooms/"+url.PathEscape(*roomFlag), body, &started); err != nil {
		return err
	}
	if *noWait {
		fmt.Fprintln(out, started.DeleteID)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		var s deleteStatus
		if err := c.do(ctx, "GET", "/_synapse/admin/v2/rooms/delete_status/"+url.PathEscape(started.DeleteID), nil, &s); err != nil {
			return err
		}
		if s.Status == "complete" || s.Status == "failed" {
			printDeleteStatus(out, s)
			if s.Status == "failed" {
				return errors.New("the deletion failed")
			}
			return nil
		}
		select {
		case <-ctx.Done():
			printDeleteStatus(out, s)
			return fmt.Errorf("still %s after %s (delete ID %s)", s.Status, *timeout, started.DeleteID)
		case <-tick.C:
		}
	}
}

func adminRoomsDeleteStatus(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	room, args := roomArg(args)
	fs := flag.NewFlagSet("rooms delete-status", flag.ContinueOnError)
	id := fs.String("id", "", "a delete ID (instead of a room ID)")
	if err := parseFlags(fs, args, out); err != nil {
		return err
	}
	switch {
	case *id != "":
		var s deleteStatus
		if err := c.do(ctx, "GET", "/_synapse/admin/v2/rooms/delete_status/"+url.PathEscape(*id), nil, &s); err != nil {
			return err
		}
		printDeleteStatus(out, s)
	case room != "":
		var res struct {
			Results []deleteStatus `json:"results"`
		}
		if err := c.do(ctx, "GET", "/_synapse/admin/v2/rooms/"+url.PathEscape(room)+"/delete_status", nil, &res); err != nil {
			return err
		}
		for _, s := range res.Results {
			printDeleteStatus(out, s)
		}
	default:
		return errors.New("rooms delete-status: a room ID or --id is required")
	}
	return nil
}

func adminRoomsBlock(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	room, args := roomArg(args)
	fs := flag.NewFlagSet("rooms block", flag.ContinueOnError)
	roomFlag := fs.String("room", room, "the room ID")
	unblock := fs.Bool("unblock", false, "lift the block")
	if err := parseFlags(fs, args, out, "room"); err != nil {
		return err
	}
	var got struct {
		Block bool `json:"block"`
	}
	if err := c.do(ctx, "PUT", "/_synapse/admin/v1/rooms/"+url.PathEscape(*roomFlag)+"/block", map[string]bool{"block": !*unblock}, &got); err != nil {
		return err
	}
	if got.Block {
		fmt.Fprintf(out, "%s blocked\n", *roomFlag)
	} else {
		fmt.Fprintf(out, "%s unblocked\n", *roomFlag)
	}
	return nil
}

func adminReportsList(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("reports list", flag.ContinueOnError)
	room := fs.String("room", "", "only reports of events in this room")
	user := fs.String("user", "", "only reports by this user")
	limit := fs.Int("limit", 100, "at most this many (newest first)")
	if err := parseFlags(fs, args, out); err != nil {
		return err
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	if *room != "" {
		q.Set("room_id", *room)
	}
	if *user != "" {
		u, err := c.userID(ctx, *user)
		if err != nil {
			return err
		}
		q.Set("user_id", u)
	}
	var page struct {
		Reports []struct {
			ID         int64   `json:"id"`
			ReceivedTS int64   `json:"received_ts"`
			RoomID     string  `json:"room_id"`
			EventID    string  `json:"event_id"`
			UserID     string  `json:"user_id"`
			Sender     string  `json:"sender"`
			Reason     *string `json:"reason"`
		} `json:"event_reports"`
		Total int `json:"total"`
	}
	if err := c.do(ctx, "GET", "/_synapse/admin/v1/event_reports?"+q.Encode(), nil, &page); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVED\tROOM\tEVENT\tSENDER\tREPORTER\tREASON")
	for _, r := range page.Reports {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, time.UnixMilli(r.ReceivedTS).UTC().Format(time.RFC3339), r.RoomID, r.EventID, r.Sender, r.UserID, deref(r.Reason))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d of %d reports\n", len(page.Reports), page.Total)
	return nil
}
