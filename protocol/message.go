package protocol

import "strconv"

// PacketType is a QuorumPacket type, numbered and spelled as the constants in Leader.java
// (spec §5).
type PacketType uint8

// Quorum packet types used during activation, with Leader.java's numbers.
const (
	REQUEST      PacketType = 1 // a learner forwards a client write (FollowerRequestProcessor)
	PROPOSAL     PacketType = 2
	ACK          PacketType = 3
	COMMIT       PacketType = 4
	PING         PacketType = 5
	INFORM       PacketType = 8 // a committed txn, to observers
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

var packetNames = FillNames("PacketType", []string{
	REQUEST: "REQUEST", INFORM: "INFORM", PROPOSAL: "PROPOSAL", ACK: "ACK", COMMIT: "COMMIT", PING: "PING", NEWLEADER: "NEWLEADER",
	FOLLOWERINFO: "FOLLOWERINFO", UPTODATE: "UPTODATE", DIFFPKT: "DIFF", TRUNCPKT: "TRUNC",
	SNAPPKT: "SNAP", OBSERVERINFO: "OBSERVERINFO", LEADERINFO: "LEADERINFO", ACKEPOCH: "ACKEPOCH",
	NOTIFICATION: "NOTIFICATION",
})

func (t PacketType) String() string {
	if int(t) < len(packetNames) {
		return packetNames[t]
	}
	return UnknownName("PacketType", int(t))
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
//   - PROPOSAL/INFORM: Txn (its Zxid is the packet's zxid); REQUEST: Txn.Value, the write.
//   - COMMIT/ACK/NEWLEADER/UPTODATE/PING: Zxid.
type Message struct {
	Type          PacketType
	Version       int32
	Zxid          Zxid
	Sid           ServerID
	Epoch         Epoch
	ConfigVersion int64
	// Txn is the transaction a PROPOSAL or INFORM carries, or the write a REQUEST forwards.
	Txn Txn
	// Txns is the snapshot a SNAP carries. Shared and never modified by anyone.
	Txns []Txn
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

// String formats a message for traces and timelines.
func (m Message) String() string { return string(m.AppendText(make([]byte, 0, 48))) }

// AppendText appends the message's text form: the packet name and its meaningful fields.
func (m Message) AppendText(b []byte) []byte {
	e := Enc{Buf: b}
	m.Encode(&e)
	return e.Buf
}

// Encode writes the message as a trace shows it (see Enc): the packet name and the fields
// its type uses. Fields that hold their usual value (protocol version 0x10000, notification
// version 2, config version 0) are shown only when they differ.
func (m *Message) Encode(e *Enc) {
	e.Enum(int(m.Type), m.Type.String())
	e.Byte('(')
	switch m.Type {
	case FOLLOWERINFO, OBSERVERINFO:
		e.Lit("sid=")
		e.Int(int64(m.Sid))
		e.Lit(" acceptedEpoch=")
		e.Int(int64(m.Zxid.Epoch()))
		if m.Zxid.Counter() != 0 {
			e.Lit(" zxid=")
			e.Zxid(m.Zxid)
		}
		m.encodeVersions(e, ProtocolVersion)
	case LEADERINFO:
		e.Lit("epoch=")
		e.Int(int64(m.Zxid.Epoch()))
		if m.Zxid.Counter() != 0 {
			e.Lit(" zxid=")
			e.Zxid(m.Zxid)
		}
		m.encodeVersions(e, ProtocolVersion)
	case ACKEPOCH:
		e.Lit("currentEpoch=")
		e.Int(int64(m.Epoch))
		e.Lit(" lastZxid=")
		e.Zxid(m.Zxid)
	case NOTIFICATION:
		v := &m.Vote
		e.Enum(int(v.State), v.State.String())
		e.Vote(int64(v.Leader), v.Zxid, v.ElectionEpoch, int64(v.PeerEpoch))
		if v.Version != notificationVersion {
			e.Lit(" version=")
			e.Int(int64(v.Version))
		}
		if m.ConfigVersion != 0 {
			e.Lit(" configVersion=")
			e.Int(m.ConfigVersion)
		}
	case SNAPPKT:
		e.Zxid(m.Zxid)
		e.Lit(" txns=")
		e.History(m.Txns)
	case PROPOSAL, INFORM:
		// Txn.Zxid repeats the packet's zxid (the model keeps them equal).
		e.Zxid(m.Zxid)
		if m.Txn.Value != 0 {
			e.Lit(" v=")
			e.Uint(m.Txn.Value)
		}
	case REQUEST:
		e.Lit("v=")
		e.Uint(m.Txn.Value)
	default:
		e.Zxid(m.Zxid)
	}
	e.Byte(')')
}

// encodeVersions shows a LearnerInfo or LEADERINFO protocol version other than usual, and a
// config version other than 0.
func (m *Message) encodeVersions(e *Enc, usual int32) {
	if m.Version != usual {
		e.Lit(" protocol=")
		e.Int(int64(m.Version))
	}
	if m.ConfigVersion != 0 {
		e.Lit(" configVersion=")
		e.Int(m.ConfigVersion)
	}
}

func appendVoteInt(b []byte, v int64) []byte {
	if v == int64(noVote) {
		return append(b, "none"...)
	}
	return strconv.AppendInt(b, v, 10)
}
