package protocol

import "strconv"

// PacketType is a QuorumPacket type, numbered and spelled as the constants in Leader.java
// (spec §5).
type PacketType uint8

// Quorum packet types used during activation, with Leader.java's numbers.
const (
	PROPOSAL     PacketType = 2
	ACK          PacketType = 3
	COMMIT       PacketType = 4
	PING         PacketType = 5
	NEWLEADER    PacketType = 10
	FOLLOWERINFO PacketType = 11
	UPTODATE     PacketType = 12
	DIFFPKT      PacketType = 13 // Leader.DIFF; the Go name avoids the SyncMode constant DIFF.
	TRUNCPKT     PacketType = 14 // Leader.TRUNC
	SNAPPKT      PacketType = 15 // Leader.SNAP
	OBSERVERINFO PacketType = 16
	LEADERINFO   PacketType = 17
	ACKEPOCH     PacketType = 18
	// NOTIFICATION is Fast Leader Election's message (FastLeaderElection.Notification),
	// carried on the election port, not the learner port. Not a QuorumPacket.
	NOTIFICATION PacketType = 100
)

var packetNames = [...]string{
	PROPOSAL: "PROPOSAL", ACK: "ACK", COMMIT: "COMMIT", PING: "PING", NEWLEADER: "NEWLEADER",
	FOLLOWERINFO: "FOLLOWERINFO", UPTODATE: "UPTODATE", DIFFPKT: "DIFF", TRUNCPKT: "TRUNC",
	SNAPPKT: "SNAP", OBSERVERINFO: "OBSERVERINFO", LEADERINFO: "LEADERINFO", ACKEPOCH: "ACKEPOCH",
	NOTIFICATION: "NOTIFICATION",
}

func (t PacketType) String() string {
	if int(t) < len(packetNames) && packetNames[t] != "" {
		return packetNames[t]
	}
	return "PacketType(" + strconv.Itoa(int(t)) + ")"
}

// ProtocolVersion is the Zab protocol version learners and leaders announce (0x10000).
const ProtocolVersion int32 = 0x10000

// Message is a decoded QuorumPacket. Only the fields its Type uses are set:
//   - FOLLOWERINFO/OBSERVERINFO: Zxid = acceptedEpoch<<32; Sid, Version, ConfigVersion are
//     the LearnerInfo record.
//   - LEADERINFO: Zxid = e<<32; Version is the leader's protocol version.
//   - ACKEPOCH: Zxid = the learner's lastLoggedZxid; Epoch = its currentEpoch before this
//     leader, or -1 if it had already accepted this epoch.
//   - DIFF/TRUNC/SNAP: Zxid as in syncFollower; SNAP carries the leader's history in Txns.
//   - PROPOSAL/COMMIT/ACK/NEWLEADER/UPTODATE/PING: Zxid.
type Message struct {
	Type          PacketType
	Version       int32
	Zxid          Zxid
	Sid           ServerID
	Epoch         Epoch
	ConfigVersion int64
	// Txns is the snapshot a SNAP carries. Shared and never modified by anyone.
	Txns []Zxid
	// Vote is a NOTIFICATION's content: the sender's vote, round and state.
	Vote Vote
}

// Vote is FastLeaderElection's vote (Vote.java): the proposed leader, its last zxid and
// currentEpoch (peerEpoch), the election round (electionEpoch) it was cast in, and, on the
// wire, the sender's state and the notification version (2).
type Vote struct {
	Leader        ServerID
	Zxid          Zxid
	ElectionEpoch int64
	PeerEpoch     Epoch
	State         ServerState
	Version       int32
}

// String formats a message for traces and timelines without allocating more than needed.
func (m Message) String() string {
	b := make([]byte, 0, 48)
	b = m.AppendText(b)
	return string(b)
}

// AppendText appends the message's text form: the packet name and its meaningful fields.
func (m Message) AppendText(b []byte) []byte {
	b = append(b, m.Type.String()...)
	switch m.Type {
	case FOLLOWERINFO, OBSERVERINFO:
		b = append(b, "(sid="...)
		b = strconv.AppendInt(b, int64(m.Sid), 10)
		b = append(b, " acceptedEpoch="...)
		b = strconv.AppendInt(b, int64(m.Zxid.Epoch()), 10)
		b = append(b, ')')
	case LEADERINFO:
		b = append(b, "(epoch="...)
		b = strconv.AppendInt(b, int64(m.Zxid.Epoch()), 10)
		b = append(b, ')')
	case ACKEPOCH:
		b = append(b, "(currentEpoch="...)
		b = strconv.AppendInt(b, int64(m.Epoch), 10)
		b = append(b, " lastZxid="...)
		b = append(b, m.Zxid.String()...)
		b = append(b, ')')
	case NOTIFICATION:
		v := &m.Vote
		b = append(b, '(')
		b = append(b, v.State.String()...)
		b = append(b, " leader="...)
		b = appendVoteInt(b, int64(v.Leader))
		b = append(b, " zxid="...)
		if v.Zxid == noZxid {
			b = append(b, "none"...)
		} else {
			b = append(b, v.Zxid.String()...)
		}
		b = append(b, " round="...)
		b = strconv.AppendInt(b, v.ElectionEpoch, 10)
		b = append(b, " peerEpoch="...)
		b = appendVoteInt(b, int64(v.PeerEpoch))
		b = append(b, ')')
	case SNAPPKT:
		b = append(b, '(')
		b = append(b, m.Zxid.String()...)
		b = append(b, " txns="...)
		b = strconv.AppendInt(b, int64(len(m.Txns)), 10)
		b = append(b, ')')
	default:
		b = append(b, '(')
		b = append(b, m.Zxid.String()...)
		b = append(b, ')')
	}
	return b
}

func appendVoteInt(b []byte, v int64) []byte {
	if v == int64(noVote) {
		return append(b, "none"...)
	}
	return strconv.AppendInt(b, v, 10)
}
