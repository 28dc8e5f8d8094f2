package types

import (
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// SetReplaces records in unsigned the state event e replaces: its
// content (prev_content), its sender (prev_sender, which clients show
// as "who changed it before") and its ID (replaces_state, Matrix 1.19).
// prev nil, or e itself, leaves e as it is. The spec hands prev_content
// only to clients that may see prev; it is stored for everyone who sees
// e, like the other stored unsigned fields.
func (e *Event) SetReplaces(prev *Event) error {
	if prev == nil || !e.IsState() || prev.EventID == e.EventID {
		return nil
	}
	content := gjson.GetBytes(prev.JSON, "content").Raw
	if content == "" {
		content = "{}"
	}
	js, err := sjson.SetRawBytes(e.JSON, "unsigned.prev_content", []byte(content))
	if err != nil {
		return err
	}
	if js, err = sjson.SetBytes(js, "unsigned.prev_sender", prev.Sender); err != nil {
		return err
	}
	if js, err = sjson.SetBytes(js, "unsigned.replaces_state", prev.EventID); err != nil {
		return err
	}
	e.JSON = js
	return nil
}

// ReplacedRedacted updates prev_content after the event e replaces was
// redacted (redacted is that event's new JSON): the content a redaction
// removed must not survive here. It reports whether e changed.
func (e *Event) ReplacedRedacted(redactedID string, redacted []byte) (bool, error) {
	if gjson.GetBytes(e.JSON, "unsigned.replaces_state").Str != redactedID {
		return false, nil
	}
	content := gjson.GetBytes(redacted, "content").Raw
	if content == "" {
		content = "{}"
	}
	js, err := sjson.SetRawBytes(e.JSON, "unsigned.prev_content", []byte(content))
	if err != nil {
		return false, err
	}
	e.JSON = js
	return true, nil
}
