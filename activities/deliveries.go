package activities

import (
	"context"
	"errors"
	"strings"

	"hrss-backoffice/internal/tencentsms"
	"hrss-backoffice/store"
)

// The delivery record of each outbox send attempt (issue 18): sent with
// the provider's ID, retrying with the reason, abandoned with the reason
// (store.RecordDeliveries; never the text).

// outboxDelivery is the record of one attempt of an outbox message whose
// notification_log result is result ("sent", "failed: …", "abandoned: …").
func outboxDelivery(m Message, sender string, r Receipt, result string) store.Delivery {
	d := store.Delivery{AccountID: m.AccountID, ApplicationID: m.ApplicationID, MessageID: m.ID, Channel: m.Channel, Kind: m.Kind, Sender: sender,
		Attempt: m.Attempt, Status: store.DeliverySent, ProviderID: r.ProviderID, Address: m.Address}
	switch {
	case strings.HasPrefix(result, "abandoned"):
		d.Status = store.DeliveryAbandoned
	case strings.HasPrefix(result, "failed"):
		d.Status = store.DeliveryRetrying
	}
	if r.Err != nil {
		d.Reason, d.ProviderID = r.Err.Error(), ""
	}
	return d
}

// SendReceipts implements ReceiptSender: the provider ID is Tencent's
// serial number of the SMS.
func (t TencentSMS) SendReceipts(ctx context.Context, msgs []Message) []Receipt {
	out := make([]Receipt, len(msgs))
	for i, m := range msgs {
		res, err := t.Client.Send(ctx, m.Address, m.Kind, m.Params)
		var perm tencentsms.Permanent
		if errors.As(err, &perm) {
			err = PermanentError{err}
		}
		out[i] = Receipt{ProviderID: res.SerialNo, Err: err}
	}
	return out
}
