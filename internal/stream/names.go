package stream

// The streams between components. See docs/architecture.md for who writes
// and who reads each.
const (
	// RoomEvents: roomserver output (roomserver/api.OutputEvent).
	RoomEvents = "room_events"
	// AccountData: userapi changes (userapi/api.OutputAccountData).
	AccountData = "account_data"
	// Receipts, Typing, Presence: ephemeral data (syncapi/api types).
	Receipts = "receipts"
	Typing   = "typing"
	Presence = "presence"
	// SendToDevice: to-device messages.
	SendToDevice = "send_to_device"
	// DeviceListUpdates: device and key changes (keyserver, userapi).
	DeviceListUpdates = "device_list_updates"
	// UserDevices: local devices deleted (userapi/api.OutputDeviceChange),
	// read by the keyserver.
	UserDevices = "user_devices"
)
