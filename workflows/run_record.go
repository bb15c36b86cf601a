package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Search attributes besides kind and status that answer an operator's
// first questions (docs/operations.md): which record, which office, in the
// current status since when. Values are codes and IDs, never personal data.
var (
	SearchRecordID = temporal.NewSearchAttributeKeyKeyword("HrssRecordId")
	SearchOffice   = temporal.NewSearchAttributeKeyKeyword("HrssOffice")
	SearchSince    = temporal.NewSearchAttributeKeyTime("HrssSince")
)

// SearchAttributeNames are the custom search attributes the namespace must
// have (name and type, as `temporal operator search-attribute create`
// takes them); scripts/lib.sh, internal/testenv and
// deploy/temporal/setup-namespace.sh (via docker-compose.yml) register the
// same list.
var SearchAttributeNames = map[string]string{
	"HrssKind": "Keyword", "HrssStatus": "Keyword", "HrssRecordId": "Keyword", "HrssOffice": "Keyword", "HrssSince": "Datetime",
}

// MemoRecord is the key of the run's memo that holds its RunRecord.
const MemoRecord = "record"

// RunRecord is what a run is about, kept in its memo under "record": the
// kind of record (the HrssKind), its ID, the agreement clause the run
// carries out, the office where the record has one, and the console page
// of the record. Codes and IDs only: it is a payloadcodec.Clear value, so
// the memo stays readable in the Temporal web UI without the codec.
type RunRecord struct {
	Kind     string `json:"kind"`
	RecordID string `json:"record_id,omitempty"`
	Clause   string `json:"clause"`
	Office   string `json:"office,omitempty"`
	Console  string `json:"console"`
}

// ClearPayload marks RunRecord as payloadcodec.Clear.
func (RunRecord) ClearPayload() {}

// Memo is the run's memo.
func (r RunRecord) Memo() map[string]any { return map[string]any{MemoRecord: r} }

// Search gives the run's search attributes at its start: kind, status,
// since, and the record ID and office when known.
func (r RunRecord) Search(status string, since time.Time) temporal.SearchAttributes {
	up := []temporal.SearchAttributeUpdate{SearchKind.ValueSet(r.Kind), SearchStatus.ValueSet(status),
		SearchSince.ValueSet(since.UTC().Truncate(time.Millisecond))}
	if r.RecordID != "" {
		up = append(up, SearchRecordID.ValueSet(r.RecordID))
	}
	if r.Office != "" {
		up = append(up, SearchOffice.ValueSet(r.Office))
	}
	return temporal.NewSearchAttributes(up...)
}

// upsertStatus sets the run's kind and status search attributes and the
// time the status was entered (HrssSince). It adds no command to what the
// status upsert always was (the SDK matches an upsert by its type, not its
// attributes), so running workflows replay unchanged.
func upsertStatus(ctx workflow.Context, kind, status string) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, SearchKind.ValueSet(kind), SearchStatus.ValueSet(status),
		SearchSince.ValueSet(workflow.Now(ctx).UTC())); err != nil {
		workflow.GetLogger(ctx).Warn("search attribute upsert failed", "error", err)
	}
}
