package api

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/store"
)

// Answers of anonymous routes that tell whether an ID number is known
// (registration: already_registered, application_open; the anonymous
// security report, which answers the same either way) leave no trace in
// their timing: evenAnswer holds every answer of the route until a common
// floor has passed since the request arrived (AnswerFloor, ANON_ANSWER_FLOOR),
// and records the answers named in record in the audit log, with the source
// address and request ID but no personal data. The per-address limit of the
// route (api/anonlimit.go) bounds how many such questions one address asks.

// DefaultAnswerFloor is the time every answer of those routes takes at least.
const DefaultAnswerFloor = 500 * time.Millisecond

// heldWriter keeps an answer back until it is released.
type heldWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *heldWriter) WriteHeader(code int)        { w.status = code }
func (w *heldWriter) Write(b []byte) (int, error) { return w.body.Write(b) }
func (w *heldWriter) Flush()                      {}

func (w *heldWriter) release() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.ResponseWriter.WriteHeader(w.status)
	_, _ = w.ResponseWriter.Write(w.body.Bytes())
}

func (s *server) evenAnswer(record ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			res := c.Response()
			held := &heldWriter{ResponseWriter: res.Writer}
			res.Writer = held
			defer func() { res.Writer = held.ResponseWriter }()
			err := next(c)
			var e *Error
			if errors.As(err, &e) && slices.Contains(record, e.Code) {
				if aerr := s.recordRefusal(c, e.Code); aerr != nil {
					err = aerr // unrecorded: answer 500 rather than unnoticed
				}
			}
			if err != nil {
				c.Error(err) // rendered into the held answer
			}
			if s.AnswerFloor > 0 {
				t := time.NewTimer(time.Until(start.Add(s.AnswerFloor)))
				select {
				case <-t.C:
				case <-c.Request().Context().Done():
					t.Stop()
				}
			}
			held.release()
			return nil
		}
	}
}

// recordRefusal writes a refusal that tells about an ID number to the audit
// log.
func (s *server) recordRefusal(c echo.Context, code string) error {
	ctx := c.Request().Context()
	return inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		return audit(ctx, tx, c, "registration.refused", "registration_attempt", "", map[string]any{"answer": code})
	})
}

// lockAfterAnswer locks the account a report names after the answer has
// gone, so the answer takes the same time whether or not the report
// matched. A lock that fails here is retried by the housekeeping
// (redriveReports): the stored report has its account and no locked_at.
func (s *server) lockAfterAnswer(ctx context.Context, accountID, reportID string) {
	ctx = context.WithoutCancel(ctx) // keeps the request ID for the workflow's header
	go func() {
		if _, err := s.lockForReport(ctx, accountID, reportID); err != nil {
			slog.Error("lock after an anonymous report; the housekeeping retries it", "report_id", reportID, "error", err)
		}
	}()
}

// redriveReports locks the accounts of anonymous reports of the last day
// whose lock did not happen within a minute.
func (s *server) redriveReports(ctx context.Context) error {
	pending, err := store.UnlockedAnonymousReports(ctx, s.DB)
	if err != nil {
		return err
	}
	for _, r := range pending {
		if _, err := s.lockForReport(ctx, r.AccountID, r.ID); err != nil {
			slog.Error("redrive an anonymous report", "report_id", r.ID, "error", err)
		}
	}
	return nil
}

// RunHousekeeping does, every interval until ctx ends, what no request
// does: it deletes the counters of past windows of the anonymous limits and
// locks the accounts of anonymous reports whose lock after the answer
// failed. Every API replica may run it; its steps are idempotent.
func RunHousekeeping(ctx context.Context, d Deps, every time.Duration) {
	d.ServiceLevel = d.ServiceLevel.WithDefaults()
	d.Password = d.Password.WithDefaults()
	s := &server{Deps: d}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := store.DeletePastAnonymousHits(ctx, s.DB); err != nil && ctx.Err() == nil {
			slog.Warn("housekeeping: anonymous counters", "error", err)
		}
		// One-time codes: the per-number limits look back one hour; the
		// number itself is kept no longer than a day (docs/data-protection.md).
		if err := store.DeletePastVerificationCodes(ctx, s.DB); err != nil && ctx.Err() == nil {
			slog.Warn("housekeeping: verification codes", "error", err)
		}
		if err := store.DeleteUnlinkedDeliveries(ctx, s.DB); err != nil && ctx.Err() == nil {
			slog.Warn("housekeeping: delivery records of codes", "error", err)
		}
		if err := s.redriveReports(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("housekeeping: anonymous reports", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
