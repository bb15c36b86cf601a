package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// Security reports (table security_reports, C3.3(3)): the API keeps a
// report as received before the account's compromise workflow
// (activities/password.go) locks the account and marks it locked.

// NewSecurityReport is a report as received.
type NewSecurityReport struct {
	ID          string
	AccountID   string // "" when the report matches no account
	Channel     string // online, staff, anonymous
	StaffID     string // "" unless staff reported for a caller
	Office      string
	Description string
	SubjectHash []byte // anonymous reports: hash of ID number and mobile number
	SourceIP    string
}

// AddSecurityReport stores a report.
func AddSecurityReport(ctx context.Context, q Q, r NewSecurityReport) error {
	_, err := q.ExecContext(ctx, `INSERT INTO security_reports (id, account_id, channel, staff_id, office, description, subject_hash, source_ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, r.ID, nullString(r.AccountID), r.Channel, nullString(r.StaffID), r.Office, r.Description,
		r.SubjectHash, r.SourceIP)
	return err
}

// RecentReports counts the reports within window: anonymous ones from the
// address, and any with the subject hash.
type RecentReports struct {
	ByIP      int `db:"by_ip"`
	BySubject int `db:"by_subject"`
}

// CountRecentReports counts the reports that limit anonymous reporting.
func CountRecentReports(ctx context.Context, q Q, ip string, subjectHash []byte, window time.Duration) (RecentReports, error) {
	var r RecentReports
	err := getOne(ctx, q, &r, `SELECT
		(SELECT count(*) FROM security_reports WHERE channel = 'anonymous' AND source_ip = $1 AND created_at > now() - $3::interval) AS by_ip,
		(SELECT count(*) FROM security_reports WHERE subject_hash = $2 AND created_at > now() - $3::interval) AS by_subject`,
		ip, subjectHash, window.String())
	return r, err
}

// UnlockedReport is an anonymous report whose account is not locked yet.
type UnlockedReport struct {
	ID        string `db:"id"`
	AccountID string `db:"account_id"`
}

// UnlockedAnonymousReports lists up to 100 anonymous reports of the last
// day, older than a minute, whose account is not locked yet, oldest first.
func UnlockedAnonymousReports(ctx context.Context, q Q) ([]UnlockedReport, error) {
	var pending []UnlockedReport
	err := sqlx.SelectContext(ctx, q, &pending, `SELECT id, account_id FROM security_reports
		WHERE channel = 'anonymous' AND account_id IS NOT NULL AND locked_at IS NULL
		  AND created_at < now() - interval '1 minute' AND created_at > now() - interval '1 day'
		ORDER BY created_at LIMIT 100`)
	return pending, err
}
