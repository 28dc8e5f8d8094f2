package matrixrules

// Event types gomatrixserverlib's spec package does not name. Code uses
// spec.MRoomCreate and friends for the others, and these for the rest,
// so no event type is spelled out twice.
const (
	MRoomMessage       = "m.room.message"
	MRoomEncrypted     = "m.room.encrypted"
	MRoomTombstone     = "m.room.tombstone"
	MRoomServerACL     = "m.room.server_acl"
	MRoomRelatedGroups = "m.room.related_groups"
	MReaction          = "m.reaction"
	MCallInvite        = "m.call.invite"

	// Ephemeral and account data types.
	MTyping         = "m.typing"
	MReceipt        = "m.receipt"
	MPresence       = "m.presence"
	MFullyRead      = "m.fully_read"
	MPushRules      = "m.push_rules"
	MDirect         = "m.direct"
	MDirectToDevice = "m.direct_to_device"
)
