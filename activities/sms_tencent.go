package activities

import (
	"context"
	"errors"

	"hrss-backoffice/internal/tencentsms"
)

// TencentSMS sends the SMS channel through Tencent Cloud SMS: each message
// as its template (Kind) with parameters; the provider's final errors
// become PermanentError, so the outbox abandons the message with the
// reason instead of trying again.
type TencentSMS struct{ Client *tencentsms.Client }

func (TencentSMS) Name() string { return "tencent-sms" }

func (t TencentSMS) Send(ctx context.Context, msgs []Message) []error {
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		_, err := t.Client.Send(ctx, m.Address, m.Kind, m.Params)
		var perm tencentsms.Permanent
		if errors.As(err, &perm) {
			err = PermanentError{err}
		}
		errs[i] = err
	}
	return errs
}
