// Package smtpmail sends plain-text e-mail through an SMTP server (the
// github.com/wneessen/go-mail client): one connection per batch, one
// Message-ID per message (the delivery record's provider ID), and the
// server's refusals sorted into final (5xx: a bad address, refused
// credentials) and worth retrying (4xx, no connection).
package smtpmail

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
)

// TLS policies of Config.TLS.
const (
	TLSMandatory     = "mandatory"     // STARTTLS required (production)
	TLSOpportunistic = "opportunistic" // STARTTLS when the server offers it
	TLSNone          = "none"          // plain text (a local mailbox only)
)

// Config is where and how mail is sent.
type Config struct {
	Host string
	Port int
	// From is the sender address (SMTP_FROM).
	From string
	// Username and Password, when set, authenticate (PLAIN or LOGIN, over
	// TLS unless the policy is none).
	Username string
	Password string
	TLS      string
	// Timeout bounds the connection and each command (default 15 s).
	Timeout time.Duration
}

// Client sends mail.
type Client struct {
	cfg  Config
	opts []mail.Option
}

// New checks the settings.
func New(cfg Config) (*Client, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtpmail: SMTP_HOST is required")
	}
	if cfg.Port <= 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("smtpmail: SMTP_PORT %d is not a port", cfg.Port)
	}
	if _, _, ok := strings.Cut(cfg.From, "@"); !ok {
		return nil, fmt.Errorf("smtpmail: SMTP_FROM %q is not an address", cfg.From)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	opts := []mail.Option{mail.WithPort(cfg.Port), mail.WithTimeout(cfg.Timeout)}
	switch cfg.TLS {
	case TLSMandatory, "":
		cfg.TLS = TLSMandatory
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSOpportunistic:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		return nil, fmt.Errorf("smtpmail: SMTP_TLS: want mandatory, opportunistic or none, got %q", cfg.TLS)
	}
	if cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(cfg.Username),
			mail.WithPassword(cfg.Password))
	}
	if _, err := mail.NewClient(cfg.Host, opts...); err != nil {
		return nil, fmt.Errorf("smtpmail: %w", err)
	}
	return &Client{cfg: cfg, opts: opts}, nil
}

// Mail is one plain-text message.
type Mail struct {
	To      string
	Subject string
	Body    string
}

// Result is the outcome of one Mail: the Message-ID it was sent with, or
// the error (Permanent when the server refused it for good).
type Result struct {
	MessageID string
	Err       error
}

// Permanent is a refusal that another try will not mend.
type Permanent struct{ Err error }

func (p Permanent) Error() string { return p.Err.Error() }
func (p Permanent) Unwrap() error { return p.Err }

// Send delivers the mails over one connection, each in its own
// transaction, and returns one Result per mail, in order.
func (c *Client) Send(ctx context.Context, mails []Mail) []Result {
	out := make([]Result, len(mails))
	msgs := make([]*mail.Msg, len(mails))
	for i, m := range mails {
		msg := mail.NewMsg(mail.WithCharset(mail.CharsetUTF8), mail.WithEncoding(mail.EncodingQP))
		if err := msg.From(c.cfg.From); err != nil {
			out[i].Err = Permanent{fmt.Errorf("smtpmail: sender address: %w", err)}
			continue
		}
		if err := msg.To(m.To); err != nil {
			out[i].Err = Permanent{fmt.Errorf("smtpmail: recipient address: %w", err)}
			continue
		}
		msg.Subject(m.Subject)
		msg.SetDate()
		msg.SetMessageID()
		msg.SetBodyString(mail.TypeTextPlain, m.Body)
		msgs[i] = msg
	}
	cl, err := mail.NewClient(c.cfg.Host, c.opts...)
	if err != nil {
		return failAll(out, Permanent{fmt.Errorf("smtpmail: %w", err)})
	}
	conn, err := cl.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return failAll(out, classify(fmt.Errorf("smtpmail: connect to %s:%d: %w", c.cfg.Host, c.cfg.Port, err)))
	}
	defer func() { _ = cl.CloseWithSMTPClient(conn) }()
	for i, msg := range msgs {
		if msg == nil {
			continue
		}
		if err := cl.SendWithSMTPClient(conn, msg); err != nil {
			out[i].Err = classify(fmt.Errorf("smtpmail: %w", err))
			continue
		}
		out[i].MessageID = strings.Trim(msg.GetMessageID(), "<>")
	}
	return out
}

func failAll(out []Result, err error) []Result {
	for i := range out {
		if out[i].Err == nil {
			out[i].Err = err
		}
	}
	return out
}

// classify makes a 5xx answer of the server Permanent (a refused
// recipient, refused credentials); everything else (4xx, timeouts, refused
// connections) is worth another try.
func classify(err error) error {
	var se *mail.SendError
	if errors.As(err, &se) {
		if se.ErrorCode() >= 500 {
			return Permanent{err}
		}
		return err
	}
	if finalReply.MatchString(err.Error()) {
		return Permanent{err}
	}
	return err
}

// finalReply is a 5xx reply with its enhanced status code ("535 5.7.8"),
// as in an authentication refusal that go-mail does not wrap in a
// SendError.
var finalReply = regexp.MustCompile(`\b5\d\d 5\.\d{1,3}\.\d{1,3}\b`)
