package zabsim_test

import "zabsim/protocol"

func protocolKnobs() []string { return protocol.KnobNames }
