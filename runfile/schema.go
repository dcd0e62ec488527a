package runfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// The JSON shape of a run file. Field order is the key order Marshal writes. Optional fields
// are pointers so that "absent" (take the default) and an explicit zero (keep it) differ.
type fileJSON struct {
	Format         int             `json:"format"`
	Scenario       string          `json:"scenario"`
	Seed           *seedJSON       `json:"seed"`
	Cluster        *clusterJSON    `json:"cluster"`
	Network        *networkJSON    `json:"network"`
	Processing     *processingJSON `json:"processing,omitempty"`
	Disks          []diskJSON      `json:"disks"`
	Faults         []faultJSON     `json:"faults"`
	Writes         []writeJSON     `json:"writes,omitempty"`
	Knobs          []string        `json:"knobs"`
	Until          *string         `json:"until"`
	StopWhenStable bool            `json:"stopWhenStable"`
	MaxEvents      uint64          `json:"maxEvents,omitempty"`
	Decisions      []decisionJSON  `json:"decisions,omitempty"`
	Expect         *expectJSON     `json:"expect"`
}

type clusterJSON struct {
	Participants                  []int64       `json:"participants"`
	Observers                     []int64       `json:"observers"`
	TickTime                      *string       `json:"tickTime"`
	InitLimit                     *int          `json:"initLimit"`
	SyncLimit                     *int          `json:"syncLimit"`
	ConnectToLearnerMasterLimit   *int          `json:"connectToLearnerMasterLimit"`
	LeaderConnectDelayDuringRetry *string       `json:"leaderConnectDelayDuringRetry"`
	CommitLogCount                *int          `json:"commitLogCount"`
	ObserverElectionDelay         *string       `json:"observerElectionDelay"`
	LeaderSelfRegisterJitter      *string       `json:"leaderSelfRegisterJitter"`
	LeaderSelfRegisterDelay       *string       `json:"leaderSelfRegisterDelay,omitempty"`
	LeaderThreadDelay             *string       `json:"leaderThreadDelay,omitempty"`
	MaxTimeToWaitForEpoch         *string       `json:"maxTimeToWaitForEpoch,omitempty"`
	SnapCount                     *int          `json:"snapCount,omitempty"`
	DatabaseBytes                 *int64        `json:"databaseBytes,omitempty"`
	SnapshotSizeFactor            *int          `json:"snapshotSizeFactor,omitempty"`
	SyncDelay                     *string       `json:"syncDelay,omitempty"`
	SyncJitter                    *string       `json:"syncJitter,omitempty"`
	Election                      *electionJSON `json:"election"`
}

type electionJSON struct {
	Mode                    *string      `json:"mode,omitempty"`
	Leader                  *int64       `json:"leader"`
	Delay                   *string      `json:"delay"`
	Changes                 []changeJSON `json:"changes,omitempty"`
	FinalizeWait            *string      `json:"finalizeWait,omitempty"`
	MinNotificationInterval *string      `json:"minNotificationInterval,omitempty"`
	MaxNotificationInterval *string      `json:"maxNotificationInterval,omitempty"`
}

type changeJSON struct {
	At     *string `json:"at"`
	Leader *int64  `json:"leader"`
}

type networkJSON struct {
	OneWayDelayMin    *string    `json:"oneWayDelayMin"`
	OneWayDelayJitter *string    `json:"oneWayDelayJitter"`
	MessageLoss       *ratioJSON `json:"messageLoss"`
}

// processingJSON is sim.Processing; an absent span is zero.
type processingJSON struct {
	Boot     *spanJSON `json:"boot,omitempty"`
	Step     *spanJSON `json:"step,omitempty"`
	Lead     *spanJSON `json:"lead,omitempty"`
	Snapshot *spanJSON `json:"snapshot,omitempty"`
	Sync     *spanJSON `json:"sync,omitempty"`
}

type spanJSON struct {
	Min *string `json:"min"`
	Max *string `json:"max"`
}

type ratioJSON struct {
	Num uint32 `json:"num"`
	Den uint32 `json:"den"`
}

// decisionJSON is one recorded random choice: a delay or jitter as a duration, a loss as a flag.
type decisionJSON struct {
	Event uint64  `json:"event"`
	Kind  string  `json:"kind"`
	A     int64   `json:"a"`
	B     int64   `json:"b,omitempty"`
	After *string `json:"after,omitempty"`
	Lost  *bool   `json:"lost,omitempty"`
	// Order is an "order" decision: the threads woken together, as positions in the order
	// the peer woke them (0 its own thread, when it is among them), in the order they ran.
	Order []int `json:"order,omitempty"`
}

type diskJSON struct {
	ID              *int64   `json:"id,omitempty"`
	AcceptedEpoch   *int64   `json:"acceptedEpoch"`
	CurrentEpoch    *int64   `json:"currentEpoch"`
	CurrentEpochTmp *int64   `json:"currentEpochTmp"`
	UpdatingEpoch   bool     `json:"updatingEpoch"`
	Txns            []string `json:"txns"`
	SnapshotZxid    *string  `json:"snapshotZxid"`
	LogStart        *string  `json:"logStart"`
	Superseded      []string `json:"superseded,omitempty"`
}

type faultJSON struct {
	Kind       string     `json:"kind"`
	At         *string    `json:"at"`
	Heal       *string    `json:"heal,omitempty"`
	Server     *int64     `json:"server,omitempty"`
	Groups     *[][]int64 `json:"groups,omitempty"`
	OneWay     *bool      `json:"oneWay,omitempty"`
	Write      *string    `json:"write,omitempty"`
	Occurrence *int       `json:"occurrence,omitempty"`
	Point      *string    `json:"point,omitempty"`
	Port       *string    `json:"port,omitempty"`
	Disk       *diskJSON  `json:"disk,omitempty"`
	Peers      *[]int64   `json:"peers,omitempty"`
}

type expectJSON struct {
	Violations []string `json:"violations"`
	TraceHash  string   `json:"traceHash,omitempty"`
}

var typeOfFileJSON = reflect.TypeFor[fileJSON]()

// checkSchema walks the document against the shape of t and reports every unknown or
// duplicated key and every value of the wrong JSON type, with its path and position. The
// decoder alone stops at the first such problem and names neither array indices nor the
// position of an unknown field; this walk gives the user the whole list at once. It is also
// stricter than encoding/json in two ways a hand-edited file benefits from: keys must match
// in case, and a key may appear only once. data must already be syntactically valid.
func checkSchema(data []byte, t reflect.Type) error {
	w := &walker{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	w.dec.UseNumber()
	if err := w.value(t, ""); err != nil {
		w.errs = append(w.errs, describeDecodeError(data, err))
	}
	return joinProblems(w.errs, w.dropped)
}

type walker struct {
	data    []byte
	dec     *json.Decoder
	errs    []error
	dropped int
	lines   []int64 // offsets where lines start, computed on the first problem
}

func (w *walker) addf(path string, start int64, format string, args ...any) {
	if len(w.errs) >= maxProblems {
		w.dropped++
		return
	}
	if path == "" {
		path = "run file"
	}
	if w.lines == nil {
		w.lines = []int64{0}
		for i, c := range w.data {
			if c == '\n' {
				w.lines = append(w.lines, int64(i+1))
			}
		}
	}
	// The last line that starts at or before start.
	line := sort.Search(len(w.lines), func(i int) bool { return w.lines[i] > start })
	col := start - w.lines[line-1] + 1
	w.errs = append(w.errs, fmt.Errorf("%s: %s (line %d, column %d)", path, fmt.Sprintf(format, args...), line, col))
}

// next reads one token and returns it with the offset where it starts.
func (w *walker) next() (json.Token, int64, error) {
	start := w.dec.InputOffset()
	for start < int64(len(w.data)) && strings.IndexByte(" \t\r\n:,", w.data[start]) >= 0 {
		start++
	}
	tok, err := w.dec.Token()
	return tok, start, err
}

// value checks the next value against t. A returned error is a decoding error that stops
// the walk; problems with the document are collected in w.errs.
func (w *walker) value(t reflect.Type, path string) error {
	tok, start, err := w.next()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil // null leaves any Go value at its zero, as encoding/json does
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(seedJSON(0)) {
		// A seed is a string of digits (what Save writes) or, in older files, a number.
		var text string
		switch v := tok.(type) {
		case string:
			text = v
		case json.Number:
			text = string(v)
		default:
			return w.mismatch(path, start, "a non-negative integer or a string of digits", tok)
		}
		if _, err := strconv.ParseUint(text, 10, 64); err != nil {
			w.badNumber(path, start, "a non-negative integer", 64, json.Number(text), err)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if tok != json.Delim('{') {
			return w.mismatch(path, start, "an object", tok)
		}
		seen := map[string]bool{}
		for w.dec.More() {
			ktok, kstart, err := w.next()
			if err != nil {
				return err
			}
			key, _ := ktok.(string)
			field, ok := fieldByKey(t, key)
			switch {
			case seen[key]:
				w.addf(path, kstart, "field %q appears twice", key)
				ok = false
			case !ok:
				if hint, found := fieldByFold(t, key); found {
					w.addf(path, kstart, "unknown field %q (did you mean %q?)", key, hint)
				} else {
					w.addf(path, kstart, "unknown field %q (known: %s)", key, strings.Join(fieldNames(t), ", "))
				}
			}
			seen[key] = true
			sub := key
			if path != "" {
				sub = path + "." + key
			}
			if ok {
				err = w.value(field.Type, sub)
			} else {
				err = w.skip()
			}
			if err != nil {
				return err
			}
		}
		_, _, err := w.next() // '}'
		return err
	case reflect.Slice:
		if tok != json.Delim('[') {
			return w.mismatch(path, start, "an array", tok)
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.value(t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, _, err := w.next() // ']'
		return err
	case reflect.String:
		if _, ok := tok.(string); !ok {
			return w.mismatch(path, start, "a string", tok)
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return w.mismatch(path, start, "true or false", tok)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := tok.(json.Number)
		if !ok {
			return w.mismatch(path, start, "an integer", tok)
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			w.badNumber(path, start, "an integer", t.Bits(), n, err)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := tok.(json.Number)
		if !ok {
			return w.mismatch(path, start, "a non-negative integer", tok)
		}
		if _, err := strconv.ParseUint(string(n), 10, t.Bits()); err != nil {
			w.badNumber(path, start, "a non-negative integer", t.Bits(), n, err)
		}
	default:
		return fmt.Errorf("runfile: internal error: no schema check for %v", t)
	}
	return nil
}

// badNumber records a number that does not fit its field.
func (w *walker) badNumber(path string, start int64, want string, bits int, n json.Number, err error) {
	if errors.Is(err, strconv.ErrRange) {
		w.addf(path, start, "%s is out of range (want %s of %d bits)", n, want, bits)
		return
	}
	w.addf(path, start, "want %s, got %s", want, n)
}

// mismatch records a value of the wrong JSON type and skips the rest of it.
func (w *walker) mismatch(path string, start int64, want string, tok json.Token) error {
	w.addf(path, start, "want %s, got %s", want, describeToken(tok))
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		return w.skipRest(1)
	}
	return nil
}

// skip skips one whole value.
func (w *walker) skip() error {
	tok, _, err := w.next()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		return w.skipRest(1)
	}
	return nil
}

// skipRest reads tokens until depth open objects or arrays are closed.
func (w *walker) skipRest(depth int) error {
	for depth > 0 {
		tok, _, err := w.next()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "string " + strconv.Quote(v)
	case json.Number:
		return "number " + string(v)
	case bool:
		return strconv.FormatBool(v)
	}
	return "null"
}

// jsonName is the key a struct field is encoded under, or "" for none.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); jsonName(f) == key && key != "" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func fieldByFold(t reflect.Type, key string) (string, bool) {
	for i := range t.NumField() {
		if n := jsonName(t.Field(i)); n != "" && strings.EqualFold(n, key) {
			return n, true
		}
	}
	return "", false
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if n := jsonName(t.Field(i)); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// describeDecodeError turns an encoding/json error into one that says where in the file it is.
func describeDecodeError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// Offset counts the bytes read, the offending one included.
		off := se.Offset
		msg := strings.TrimPrefix(se.Error(), "json: ")
		if off > 0 && off <= int64(len(data)) && msg != "unexpected end of JSON input" {
			off--
		}
		line, col := position(data, off)
		return fmt.Errorf("syntax error at line %d, column %d: %s", line, col, msg)
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, col := position(data, int64(len(data)))
		return fmt.Errorf("syntax error at line %d, column %d: unexpected end of JSON input", line, col)
	case errors.As(err, &te):
		path := te.Field
		if path == "" {
			path = "run file"
		}
		line, col := position(data, te.Offset)
		return fmt.Errorf("%s: want %v, got %s (line %d, column %d)", path, te.Type, te.Value, line, col)
	}
	return fmt.Errorf("invalid run file: %w", err)
}

// position converts a byte offset into a 1-based line and column (in bytes).
func position(data []byte, off int64) (line, col int) {
	off = max(0, min(off, int64(len(data))))
	before := data[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// seedJSON is a run file's seed: written as a JSON string, so that seeds above 2^53 survive
// jq and JavaScript; read from a string or, as older files have it, a number.
type seedJSON uint64

func (s seedJSON) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatUint(uint64(s), 10) + `"`), nil
}

func (s *seedJSON) UnmarshalJSON(b []byte) error {
	text := string(b)
	if len(text) >= 2 && text[0] == '"' && text[len(text)-1] == '"' {
		text = text[1 : len(text)-1]
	}
	v, err := strconv.ParseUint(text, 10, 64)
	if err != nil {
		return fmt.Errorf("invalid seed %s: want an unsigned 64-bit integer, as a string or a number", b)
	}
	*s = seedJSON(v)
	return nil
}

// writeJSON is one client write: its time and the server the client asks.
type writeJSON struct {
	At     *string `json:"at"`
	Server *int64  `json:"server"`
}
