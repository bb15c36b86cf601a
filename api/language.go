package api

import (
	"context"

	"hrss-backoffice/internal/messages"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
)

// The language of the messages to a person (issue 18): what the applicant
// chose on the registration form (or the request's "language"), stored
// with the application, carried to the account at approval and changed by
// the user with PATCH /v1/me. Chinese unless English was chosen.

// messageLanguage checks an optional language field: "" is Chinese.
func messageLanguage(field, v string) (string, *validate.FieldError) {
	if v == "" {
		return messages.ZH, nil
	}
	return v, accountLanguage(field, v)
}

// accountLanguage checks a language that must be given: zh or en.
func accountLanguage(field, v string) *validate.FieldError {
	if v == messages.ZH || v == messages.EN {
		return nil
	}
	return &validate.FieldError{Field: field, Code: "unknown_language",
		MessageZH: "语言须为 zh 或 en", MessageEN: "language is zh or en"}
}

// codeLanguage is the language of a verification code's SMS: the
// application's (pickup), the account's (contact change), else the
// request's (registration, before anything is stored).
func (s *server) codeLanguage(ctx context.Context, purpose, accountID, applicationID, requested string) (string, error) {
	switch {
	case purpose == PurposePickup && applicationID != "":
		return store.ApplicationLanguage(ctx, s.DB, applicationID)
	case purpose == PurposeContactChange && accountID != "":
		return store.AccountLanguage(ctx, s.DB, accountID)
	}
	return messages.Lang(requested), nil
}
