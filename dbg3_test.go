package zabsim_test

import (
	"time"

	"zabsim/protocol"
)

func protocolTime(s string) protocol.Time {
	d, _ := time.ParseDuration(s)
	return protocol.Time(d)
}
