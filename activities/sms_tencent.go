package activities

import (
	"context"

	"hrss-backoffice/internal/tencentsms"
)

// TencentSMS sends the SMS channel through Tencent Cloud SMS: each message
// as its template (Kind) with parameters; the provider's final errors
// become PermanentError, so the outbox abandons the message with the
// reason instead of trying again.
type TencentSMS struct{ Client *tencentsms.Client }

func (TencentSMS) Name() string { return "tencent-sms" }

func (t TencentSMS) Send(ctx context.Context, msgs []Message) []error {
	rs := t.SendReceipts(ctx, msgs)
	return ReceiptErrors(rs)
}
