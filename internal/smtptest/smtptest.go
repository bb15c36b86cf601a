// Package smtptest is a small in-process SMTP server for tests: it accepts
// what an SMTP client sends (EHLO, MAIL, RCPT, DATA), keeps every message
// decoded (headers, UTF-8 subject and body), and can be told to refuse
// deliveries with a given reply, so that a test reads back what a sender
// delivered or sees how it handles a temporary or permanent refusal.
package smtptest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
)

// Message is one delivered message.
type Message struct {
	From      string
	To        []string // envelope recipients
	Subject   string   // decoded
	Body      string   // decoded text (the text/plain part of a multipart message)
	MessageID string   // the Message-ID header, without angle brackets
	Header    mail.Header
	Raw       []byte
}

// Server is a running SMTP server on 127.0.0.1.
type Server struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []Message
	// refuse, when not "", is the reply to every RCPT (e.g. "451 4.3.0 try
	// later" or "550 5.1.1 no such user").
	refuse string
	wg     sync.WaitGroup
	conns  map[net.Conn]bool
	closed bool
}

// Start starts a server on a free port of 127.0.0.1.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr is host:port; Host and Port its parts.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host is the server's address.
func (s *Server) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port is the server's port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Refuse makes every following RCPT answer reply ("" accepts again).
func (s *Server) Refuse(reply string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = reply
}

// Messages returns a copy of the messages received so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// To returns the messages with rcpt among their envelope recipients.
func (s *Server) To(rcpt string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		for _, r := range m.To {
			if strings.EqualFold(r, rcpt) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// Close stops the server and waits for its connections to end.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

func (s *Server) session(c net.Conn) {
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	reply := func(lines ...string) bool {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		return w.Flush() == nil
	}
	if !reply("220 smtptest ESMTP ready") {
		return
	}
	var from string
	var rcpts []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			reply("250-smtptest", "250-8BITMIME", "250-SMTPUTF8", "250-ENHANCEDSTATUSCODES", "250 SIZE 10485760")
		case "HELO":
			reply("250 smtptest")
		case "MAIL":
			from, rcpts = addrOf(arg), nil
			reply("250 2.1.0 ok")
		case "RCPT":
			s.mu.Lock()
			refuse := s.refuse
			s.mu.Unlock()
			if refuse != "" {
				reply(refuse)
				continue
			}
			rcpts = append(rcpts, addrOf(arg))
			reply("250 2.1.5 ok")
		case "DATA":
			if len(rcpts) == 0 {
				reply("503 5.5.1 no recipients")
				continue
			}
			reply("354 end with <CRLF>.<CRLF>")
			raw, err := readData(r)
			if err != nil {
				return
			}
			m := parse(raw)
			m.From, m.To = from, rcpts
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			reply("250 2.0.0 queued")
			from, rcpts = "", nil
		case "RSET":
			from, rcpts = "", nil
			reply("250 2.0.0 ok")
		case "NOOP":
			reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 not implemented")
		}
	}
}

// addrOf takes the address out of "FROM:<a@b> SIZE=1" or "TO:<a@b>".
func addrOf(arg string) string {
	_, rest, _ := strings.Cut(arg, ":")
	rest = strings.TrimSpace(rest)
	if i := strings.IndexByte(rest, '>'); strings.HasPrefix(rest, "<") && i > 0 {
		return rest[1:i]
	}
	addr, _, _ := strings.Cut(rest, " ")
	return addr
}

func readData(r *bufio.Reader) ([]byte, error) {
	var buf bytes.Buffer
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if line == ".\r\n" || line == ".\n" {
			return buf.Bytes(), nil
		}
		buf.WriteString(strings.TrimPrefix(line, "."))
	}
}

func parse(raw []byte) Message {
	m := Message{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.Body = string(raw)
		return m
	}
	m.Header = msg.Header
	dec := new(mime.WordDecoder)
	if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		m.Subject = subj
	} else {
		m.Subject = msg.Header.Get("Subject")
	}
	m.MessageID = strings.Trim(msg.Header.Get("Message-ID"), "<>")
	body, _ := textOf(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	m.Body = body
	return m
}

// textOf decodes a body, taking the first text/plain part of a multipart one.
func textOf(contentType, encoding string, body io.Reader) (string, error) {
	media, params, err := mime.ParseMediaType(contentType)
	if err == nil && strings.HasPrefix(media, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return "", fmt.Errorf("no text part: %w", err)
			}
			ct := p.Header.Get("Content-Type")
			if ct == "" || strings.HasPrefix(ct, "text/plain") || strings.HasPrefix(ct, "multipart/") {
				return textOf(ct, p.Header.Get("Content-Transfer-Encoding"), p)
			}
		}
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // the decoder skips line breaks
	}
	b, err := io.ReadAll(body)
	return string(b), err
}
