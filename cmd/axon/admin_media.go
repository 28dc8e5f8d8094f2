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

// `axon admin media ...`: the media admin API (docs/admin-api.md), e.g.
// for a cron job purging old cached remote media.

func adminMediaList(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("media list", flag.ContinueOnError)
	user := fs.String("user", "", "localpart or user ID")
	limit := fs.Int("limit", 100, "at most this many (newest first)")
	if err := parseFlags(fs, args, out, "user"); err != nil {
		return err
	}
	userID, err := c.userID(ctx, *user)
	if err != nil {
		return err
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}, "dir": {"b"}}
	var page struct {
		Media []struct {
			MediaID       string  `json:"media_id"`
			MediaType     string  `json:"media_type"`
			MediaLength   int64   `json:"media_length"`
			UploadName    *string `json:"upload_name"`
			CreatedTS     int64   `json:"created_ts"`
			QuarantinedBy *string `json:"quarantined_by"`
			Protected     bool    `json:"safe_from_quarantine"`
		} `json:"media"`
		Total int `json:"total"`
	}
	if err := c.do(ctx, "GET", "/_synapse/admin/v1/users/"+esc(userID)+"/media?"+q.Encode(), nil, &page); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEDIA ID\tTYPE\tBYTES\tNAME\tUPLOADED\tQUARANTINED BY\tPROTECTED")
	for _, m := range page.Media {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%v\n", m.MediaID, m.MediaType, m.MediaLength, deref(m.UploadName),
			time.UnixMilli(m.CreatedTS).UTC().Format(time.DateTime), deref(m.QuarantinedBy), m.Protected)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d of %d files\n", len(page.Media), page.Total)
	return nil
}

// splitMXC reads mxc://server/id.
func splitMXC(uri string) (server, mediaID string, err error) {
	rest, ok := strings.CutPrefix(uri, "mxc://")
	if server, mediaID, found := strings.Cut(rest, "/"); ok && found && server != "" && mediaID != "" {
		return server, mediaID, nil
	}
	return "", "", fmt.Errorf("%q is not an mxc:// URI", uri)
}

func adminMediaQuarantine(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("media quarantine", flag.ContinueOnError)
	mxc := fs.String("mxc", "", "one file: mxc://server/id")
	room := fs.String("room", "", "every file in a room's events (room ID)")
	user := fs.String("user", "", "every file a local user uploaded (localpart or user ID)")
	undo := fs.Bool("undo", false, "with --mxc: take the file out of quarantine")
	if err := parseFlags(fs, args, out); err != nil {
		return err
	}
	var got struct {
		N int `json:"num_quarantined"`
	}
	switch {
	case *mxc != "" && *room == "" && *user == "":
		server, id, err := splitMXC(*mxc)
		if err != nil {
			return err
		}
		action := "quarantine"
		if *undo {
			action = "unquarantine"
		}
		if err := c.do(ctx, "POST", "/_synapse/admin/v1/media/"+action+"/"+esc(server)+"/"+esc(id), map[string]any{}, nil); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: %s done\n", *mxc, action)
		return nil
	case *undo:
		return errors.New("media quarantine: --undo works with --mxc only")
	case *room != "" && *mxc == "" && *user == "":
		if err := c.do(ctx, "POST", "/_synapse/admin/v1/room/"+esc(*room)+"/media/quarantine", map[string]any{}, &got); err != nil {
			return err
		}
	case *user != "" && *mxc == "" && *room == "":
		userID, err := c.userID(ctx, *user)
		if err != nil {
			return err
		}
		if err := c.do(ctx, "POST", "/_synapse/admin/v1/user/"+esc(userID)+"/media/quarantine", map[string]any{}, &got); err != nil {
			return err
		}
	default:
		return errors.New("media quarantine: give one of --mxc, --room, --user")
	}
	fmt.Fprintf(out, "%d files quarantined\n", got.N)
	return nil
}

func adminMediaDelete(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("media delete", flag.ContinueOnError)
	mxc := fs.String("mxc", "", "the file: mxc://server/id")
	if err := parseFlags(fs, args, out, "mxc"); err != nil {
		return err
	}
	server, id, err := splitMXC(*mxc)
	if err != nil {
		return err
	}
	if err := c.do(ctx, "DELETE", "/_synapse/admin/v1/media/"+esc(server)+"/"+esc(id), nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s deleted\n", *mxc)
	return nil
}

func adminMediaDeleteOld(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("media delete-old", flag.ContinueOnError)
	age := fs.Duration("older-than", 0, "delete local files not downloaded for this long (e.g. 2160h)")
	larger := fs.Int64("larger-than", 0, "only files larger than this many bytes")
	avatars := fs.Bool("delete-avatars", false, "delete user and room avatars too")
	if err := parseFlags(fs, args, out); err != nil {
		return err
	}
	if *age <= 0 {
		return errors.New("media delete-old: --older-than is required")
	}
	q := url.Values{"before_ts": {strconv.FormatInt(time.Now().Add(-*age).UnixMilli(), 10)},
		"size_gt": {strconv.FormatInt(*larger, 10)}, "keep_profiles": {strconv.FormatBool(!*avatars)}}
	var got struct {
		Total int `json:"total"`
	}
	if err := c.do(ctx, "POST", "/_synapse/admin/v1/media/delete?"+q.Encode(), map[string]any{}, &got); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d local files deleted\n", got.Total)
	return nil
}

func adminMediaPurgeRemote(ctx context.Context, c *adminClient, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("media purge-remote", flag.ContinueOnError)
	age := fs.Duration("older-than", 0, "drop cached remote files not downloaded for this long (e.g. 720h)")
	if err := parseFlags(fs, args, out); err != nil {
		return err
	}
	if *age <= 0 {
		return errors.New("media purge-remote: --older-than is required")
	}
	q := url.Values{"before_ts": {strconv.FormatInt(time.Now().Add(-*age).UnixMilli(), 10)}}
	var got struct {
		Deleted int `json:"deleted"`
	}
	if err := c.do(ctx, "POST", "/_synapse/admin/v1/purge_media_cache?"+q.Encode(), map[string]any{}, &got); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d cached remote files purged\n", got.Deleted)
	return nil
}
