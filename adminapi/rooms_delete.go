package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/adminapi/storage"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	istorage "github.com/axon-hs/axon/internal/storage"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// Room deletion (DELETE /_synapse/admin/v2/rooms/{roomId}): answered at
// once with a delete_id; a background job blocks the room if asked, makes
// every local member leave (moving them to a new room when
// new_room_user_id is given), then purges the room from every component.
// The job's state is stored after each step, so a restart resumes it.

// Statuses of a deletion.
const (
	deleteShuttingDown = "shutting_down"
	deletePurging      = "purging"
	deleteComplete     = "complete"
	deleteFailed       = "failed"
)

const (
	defaultShutdownRoomName = "Content Violation Notification"
	defaultShutdownMessage  = "Sharing illegal content on this server is not permitted and rooms in violation will be blocked."
	maxShutdownTextBytes    = 4096
	// purgeTimeout bounds the roomserver's purge of one room.
	purgeTimeout = time.Hour
)

// deleteParams is the request, stored with the job.
type deleteParams struct {
	NewRoomUserID string `json:"new_room_user_id,omitempty"`
	RoomName      string `json:"room_name"`
	Message       string `json:"message"`
	Block         bool   `json:"block"`
	Purge         bool   `json:"purge"`
	ForcePurge    bool   `json:"force_purge"`
}

// shutdownResult is Synapse's shutdown_room object.
type shutdownResult struct {
	KickedUsers       []string `json:"kicked_users"`
	FailedToKickUsers []string `json:"failed_to_kick_users"`
	LocalAliases      []string `json:"local_aliases"`
	NewRoomID         *string  `json:"new_room_id"`
}

func newShutdownResult() shutdownResult {
	return shutdownResult{KickedUsers: []string{}, FailedToKickUsers: []string{}, LocalAliases: []string{}}
}

// deleteRoom serves DELETE /v2/rooms/{roomId}: the deletion runs in the
// background.
func (a *AdminAPI) deleteRoom(req *http.Request, admin *httputil.Device) httputil.JSONResponse {
	job, r := a.newRoomDelete(req, admin)
	if r != nil {
		return *r
	}
	a.startRoomDelete(*job)
	return httputil.OK(map[string]string{"delete_id": job.DeleteID})
}

// deleteRoomV1 serves DELETE /v1/rooms/{roomId}: the same deletion,
// answered with its shutdown_room result once it is over.
func (a *AdminAPI) deleteRoomV1(req *http.Request, admin *httputil.Device) httputil.JSONResponse {
	job, r := a.newRoomDelete(req, admin)
	if r != nil {
		return *r
	}
	a.jobs.Add(1)
	d := &roomDeletion{a: a, job: *job}
	func() {
		defer a.jobs.Done()
		d.run(a.jobsCtx)
	}()
	switch d.job.Status {
	case deleteComplete:
		return httputil.OK(json.RawMessage(d.job.Result))
	case deleteFailed:
		return httputil.Error(http.StatusInternalServerError, "M_UNKNOWN", "Room deletion failed: %s", d.job.Error)
	}
	return httputil.Error(http.StatusServiceUnavailable, "M_UNKNOWN", "The server is shutting down; deletion %s resumes on start", job.DeleteID)
}

// newRoomDelete checks a deletion request and stores it as a new job.
func (a *AdminAPI) newRoomDelete(req *http.Request, admin *httputil.Device) (*storage.RoomDelete, *httputil.JSONResponse) {
	ctx := req.Context()
	fail := func(r httputil.JSONResponse) (*storage.RoomDelete, *httputil.JSONResponse) { return nil, &r }
	roomID := req.PathValue("roomId")
	if _, err := spec.NewRoomID(roomID); err != nil || len(roomID) > 255 {
		return fail(httputil.InvalidParam("%q is not a room ID", roomID))
	}
	var body struct {
		NewRoomUserID *string `json:"new_room_user_id"`
		RoomName      *string `json:"room_name"`
		Message       *string `json:"message"`
		Block         *bool   `json:"block"`
		Purge         *bool   `json:"purge"`
		ForcePurge    *bool   `json:"force_purge"`
	}
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return nil, r
	}
	p := deleteParams{RoomName: defaultShutdownRoomName, Message: defaultShutdownMessage, Purge: true}
	if body.NewRoomUserID != nil && *body.NewRoomUserID != "" {
		u := *body.NewRoomUserID
		if _, err := spec.NewUserID(u, true); err != nil || !strings.HasSuffix(u, ":"+a.serverName) || len(u) > 255 {
			return fail(httputil.InvalidParam("new_room_user_id must be a user of this server"))
		}
		p.NewRoomUserID = u
	}
	for _, f := range []struct {
		v    *string
		dst  *string
		name string
	}{{body.RoomName, &p.RoomName, "room_name"}, {body.Message, &p.Message, "message"}} {
		if f.v == nil {
			continue
		}
		if len(*f.v) > maxShutdownTextBytes {
			return fail(httputil.InvalidParam("%s is limited to %d bytes", f.name, maxShutdownTextBytes))
		}
		*f.dst = *f.v
	}
	if body.Block != nil {
		p.Block = *body.Block
	}
	if body.Purge != nil {
		p.Purge = *body.Purge
	}
	if body.ForcePurge != nil {
		p.ForcePurge = *body.ForcePurge
	}
	if _, err := a.rooms.QueryRoomVersion(ctx, matrixid.RoomID(roomID)); err != nil {
		if !errors.Is(err, rsapi.ErrRoomNotFound) {
			return fail(a.fail(err, "room version"))
		}
		if !p.Block {
			return fail(httputil.InvalidParam("Room %s is unknown to this server; only blocking it (block: true) is possible", roomID))
		}
	}
	jobs, err := a.db.RoomDeletes(ctx, roomID)
	if err != nil {
		return fail(a.fail(err, "room deletions"))
	}
	for _, j := range jobs {
		if j.Status != deleteComplete && j.Status != deleteFailed {
			return fail(httputil.Error(http.StatusBadRequest, "M_UNKNOWN", "A deletion of %s is already in progress (%s)", roomID, j.DeleteID))
		}
	}
	params, _ := json.Marshal(p)
	result, _ := json.Marshal(newShutdownResult())
	now := time.Now().UnixMilli()
	job := storage.RoomDelete{DeleteID: randomString(16), RoomID: roomID, Requester: admin.UserID, Params: string(params),
		Status: deleteShuttingDown, Result: string(result), CreatedTS: now, UpdatedTS: now}
	if err := a.db.InsertRoomDelete(ctx, job); err != nil {
		return fail(a.fail(err, "store room deletion"))
	}
	return &job, nil
}

// deleteStatusJSON is one deletion as delete_status shows it.
type deleteStatusJSON struct {
	DeleteID     string          `json:"delete_id"`
	RoomID       string          `json:"room_id"`
	Status       string          `json:"status"`
	Error        string          `json:"error,omitempty"`
	ShutdownRoom json.RawMessage `json:"shutdown_room"`
}

func newDeleteStatus(j storage.RoomDelete) deleteStatusJSON {
	return deleteStatusJSON{DeleteID: j.DeleteID, RoomID: j.RoomID, Status: j.Status, Error: j.Error, ShutdownRoom: json.RawMessage(j.Result)}
}

// deleteStatusRoutes serves GET /v2/rooms/{roomId}/delete_status and
// GET /v2/rooms/delete_status/{deleteId}.
func (a *AdminAPI) deleteStatusRoutes(req *http.Request, dev *httputil.Device) httputil.JSONResponse {
	first, second := req.PathValue("first"), req.PathValue("second")
	switch {
	case first == "delete_status":
		return a.deleteStatus(req, second)
	case second == "delete_status":
		return a.roomDeleteStatus(req, first)
	}
	return httputil.NotFound("Unrecognized request")
}

// roomDeleteStatus serves GET /v2/rooms/{roomId}/delete_status.
func (a *AdminAPI) roomDeleteStatus(req *http.Request, roomID string) httputil.JSONResponse {
	if _, err := spec.NewRoomID(roomID); err != nil {
		return httputil.InvalidParam("%q is not a room ID", roomID)
	}
	jobs, err := a.db.RoomDeletes(req.Context(), roomID)
	if err != nil {
		return a.fail(err, "room deletions")
	}
	if len(jobs) == 0 {
		return httputil.NotFound("No deletion of room %s is known", roomID)
	}
	out := make([]deleteStatusJSON, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, newDeleteStatus(j))
	}
	return httputil.OK(map[string]any{"results": out})
}

// deleteStatus serves GET /v2/rooms/delete_status/{deleteId}.
func (a *AdminAPI) deleteStatus(req *http.Request, id string) httputil.JSONResponse {
	if len(id) > 64 {
		return httputil.InvalidParam("Invalid delete ID")
	}
	j, err := a.db.RoomDelete(req.Context(), id)
	if errors.Is(err, istorage.ErrNotFound) {
		return httputil.NotFound("Unknown delete ID %s", id)
	}
	if err != nil {
		return a.fail(err, "room deletion")
	}
	return httputil.OK(newDeleteStatus(*j))
}

// resumeRoomDeletes restarts the deletions a previous run left unfinished.
func (a *AdminAPI) resumeRoomDeletes(ctx context.Context) error {
	jobs, err := a.db.UnfinishedRoomDeletes(ctx, deleteComplete, deleteFailed)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		a.log.Info("resuming room deletion", "delete_id", j.DeleteID, "room_id", j.RoomID, "status", j.Status)
		a.startRoomDelete(j)
	}
	return nil
}

// startRoomDelete runs a deletion in the background (until Close).
func (a *AdminAPI) startRoomDelete(job storage.RoomDelete) {
	a.jobs.Add(1)
	go func() {
		defer a.jobs.Done()
		d := &roomDeletion{a: a, job: job}
		d.run(a.jobsCtx)
	}()
}

// roomDeletion is one running deletion.
type roomDeletion struct {
	a      *AdminAPI
	job    storage.RoomDelete
	params deleteParams
	result shutdownResult
}

func (d *roomDeletion) run(ctx context.Context) {
	a := d.a
	if err := json.Unmarshal([]byte(d.job.Params), &d.params); err != nil {
		d.finish(ctx, fmt.Errorf("stored parameters unreadable: %w", err))
		return
	}
	d.result = newShutdownResult()
	if err := json.Unmarshal([]byte(d.job.Result), &d.result); err != nil {
		d.finish(ctx, fmt.Errorf("stored result unreadable: %w", err))
		return
	}
	var err error
	if d.job.Status == deleteShuttingDown {
		err = d.shutDown(ctx)
	}
	if err == nil && d.params.Purge {
		if err = d.save(ctx, deletePurging, ""); err == nil {
			err = d.purge(ctx)
		}
	}
	if ctx.Err() != nil {
		// Stopped by shutdown: resumed from the stored step on start.
		a.log.Info("room deletion interrupted; it resumes on start", "delete_id", d.job.DeleteID)
		return
	}
	d.finish(ctx, err)
}

// finish records the outcome.
func (d *roomDeletion) finish(ctx context.Context, err error) {
	status, text := deleteComplete, ""
	if err != nil {
		status, text = deleteFailed, err.Error()
		d.a.log.Warn("room deletion failed", "delete_id", d.job.DeleteID, "room_id", d.job.RoomID, "error", err)
	}
	if err := d.save(ctx, status, text); err != nil && ctx.Err() == nil {
		d.a.log.Error("store room deletion outcome", "delete_id", d.job.DeleteID, "error", err)
	}
}

// save stores the status and the result so far.
func (d *roomDeletion) save(ctx context.Context, status, errText string) error {
	result, _ := json.Marshal(d.result)
	d.job.Status, d.job.Error, d.job.Result = status, errText, string(result)
	return d.a.db.UpdateRoomDelete(ctx, d.job.DeleteID, status, errText, string(result), time.Now().UnixMilli())
}

// shutDown blocks the room (if asked), takes it out of the directory and
// makes every local member leave, moving them to a new room when asked.
// Each step can run again after a restart.
func (d *roomDeletion) shutDown(ctx context.Context) error {
	a, roomID := d.a, matrixid.RoomID(d.job.RoomID)
	if d.params.Block {
		if err := a.rooms.SetRoomBlocked(ctx, roomID, true, matrixid.UserID(d.job.Requester)); err != nil {
			return fmt.Errorf("block the room: %w", err)
		}
	}
	if _, err := a.rooms.QueryRoomVersion(ctx, roomID); errors.Is(err, rsapi.ErrRoomNotFound) {
		return nil // unknown here (or already purged): blocking was all
	} else if err != nil {
		return err
	}
	if d.params.NewRoomUserID != "" && d.result.NewRoomID == nil {
		newRoom, err := d.createNewRoom(ctx)
		if err != nil {
			return fmt.Errorf("create the new room: %w", err)
		}
		d.result.NewRoomID = &newRoom
		if err := d.save(ctx, deleteShuttingDown, ""); err != nil {
			return err
		}
	}
	if err := a.rooms.SetRoomVisibility(ctx, roomID, "private"); err != nil && !errors.Is(err, rsapi.ErrRoomNotFound) {
		return fmt.Errorf("remove from the directory: %w", err)
	}
	members, err := a.localMembers(ctx, string(roomID), spec.Join, spec.Invite, spec.Knock)
	if err != nil {
		return err
	}
	for _, m := range members {
		if err := d.removeMember(ctx, m); err != nil {
			return err
		}
	}
	if d.result.NewRoomID != nil {
		aliases, err := a.rooms.QueryAliasesForRoom(ctx, roomID)
		if err != nil {
			return err
		}
		if len(aliases) > 0 {
			if err := a.rooms.MoveAliases(ctx, roomID, matrixid.RoomID(*d.result.NewRoomID)); err != nil {
				return fmt.Errorf("move aliases: %w", err)
			}
			d.result.LocalAliases = appendNew(d.result.LocalAliases, aliases...)
		}
	}
	return d.save(ctx, deleteShuttingDown, "")
}

// removeMember makes one local member leave (an invite is rejected, a
// knock withdrawn) and, with a new room, join that one.
func (d *roomDeletion) removeMember(ctx context.Context, userID string) error {
	a := d.a
	sk := userID
	_, err := a.send(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(d.job.RoomID), Sender: matrixid.UserID(userID), Type: spec.MRoomMember,
		StateKey: &sk, Content: json.RawMessage(`{"membership":"leave"}`)})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		a.log.Warn("room deletion: could not remove a member", "room_id", d.job.RoomID, "user_id", userID, "error", err)
		d.result.FailedToKickUsers = appendNew(d.result.FailedToKickUsers, userID)
		return d.save(ctx, deleteShuttingDown, "")
	}
	d.result.KickedUsers = appendNew(d.result.KickedUsers, userID)
	if d.result.NewRoomID != nil {
		content := map[string]any{"membership": "join"}
		if name, avatar, err := a.users.QueryProfile(ctx, matrixid.UserID(userID)); err == nil {
			if name != "" {
				content["displayname"] = name
			}
			if avatar != "" {
				content["avatar_url"] = avatar
			}
		}
		c, _ := json.Marshal(content)
		if _, err := a.send(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(*d.result.NewRoomID), Sender: matrixid.UserID(userID), Type: spec.MRoomMember,
			StateKey: &sk, Content: c}); err != nil && ctx.Err() == nil {
			a.log.Warn("room deletion: could not move a member to the new room", "room_id", *d.result.NewRoomID, "user_id", userID, "error", err)
		}
	}
	return d.save(ctx, deleteShuttingDown, "")
}

// createNewRoom creates the room members are moved to: public, only its
// creator may speak (users_default -10), with the message.
func (d *roomDeletion) createNewRoom(ctx context.Context) (string, error) {
	a := d.a
	creator := d.params.NewRoomUserID
	events := newRoomEvents(creator, a.base.Cfg.Rooms.DefaultVersion,
		map[string]any{"membership": "join"},
		map[string]any{"users_default": -10, "events_default": 0, "state_default": 50,
			"ban": 50, "kick": 50, "redact": 50, "invite": 0},
		stateEvent{spec.MRoomJoinRules, map[string]any{"join_rule": "public"}},
		stateEvent{spec.MRoomHistoryVisibility, map[string]any{"history_visibility": "shared"}},
		stateEvent{spec.MRoomName, map[string]any{"name": d.params.RoomName}},
	)
	resp, err := a.createRoom(ctx, events)
	if err != nil {
		return "", err
	}
	msg, _ := json.Marshal(map[string]string{"msgtype": "m.text", "body": d.params.Message})
	if _, err := a.send(ctx, &rsapi.LocalEvent{RoomID: resp.RoomID, Sender: matrixid.UserID(creator), Type: matrixrules.MRoomMessage, Content: msg}); err != nil {
		return "", err
	}
	return string(resp.RoomID), nil
}

// purge refuses while local users are still joined (unless force_purge),
// then deletes the room from the roomserver (whose output makes syncapi
// and the federation sender delete theirs) and its account data.
func (d *roomDeletion) purge(ctx context.Context) error {
	a, roomID := d.a, matrixid.RoomID(d.job.RoomID)
	if !d.params.ForcePurge {
		joined, err := a.localMembers(ctx, d.job.RoomID, spec.Join)
		if err != nil {
			return err
		}
		if len(joined) > 0 {
			return fmt.Errorf("%d local users are still joined to the room (force_purge purges anyway)", len(joined))
		}
	}
	// A big room's purge outlasts the default RPC deadline (polylith).
	pctx, cancel := context.WithTimeout(ctx, purgeTimeout)
	defer cancel()
	if err := a.rooms.PurgeRoom(pctx, roomID); err != nil {
		return fmt.Errorf("purge the room: %w", err)
	}
	if err := a.users.DeleteRoomAccountData(ctx, roomID); err != nil {
		return fmt.Errorf("delete the room's account data: %w", err)
	}
	return nil
}

// localMembers lists the room's local users whose current membership is
// one of memberships ("" state for an unknown room).
func (a *AdminAPI) localMembers(ctx context.Context, roomID string, memberships ...string) ([]string, error) {
	evs, err := a.rooms.QueryCurrentState(ctx, matrixid.RoomID(roomID), []rsapi.StateKey{{Type: spec.MRoomMember, StateKey: "*"}})
	if errors.Is(err, rsapi.ErrRoomNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ev := range evs {
		sk := ev.StateKey()
		if sk == nil || !strings.HasSuffix(*sk, ":"+a.serverName) {
			continue
		}
		m := gjson.GetBytes(ev.Content(), "membership").Str
		for _, want := range memberships {
			if m == want {
				out = append(out, *sk)
			}
		}
	}
	return out, nil
}

// appendNew appends the values not yet in l.
func appendNew(l []string, vs ...string) []string {
	for _, v := range vs {
		found := false
		for _, x := range l {
			if x == v {
				found = true
				break
			}
		}
		if !found {
			l = append(l, v)
		}
	}
	return l
}
