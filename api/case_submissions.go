package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
	"hrss-backoffice/workflows"
)

// ---- cases and sanctions (api/cases.go): the user's answers, correction reports and appeals ----

type submissionBody struct {
	Text     string   `json:"text"`
	Evidence []string `json:"evidence"`
}

func (s *server) readSubmission(c echo.Context) (submissionBody, error) {
	var req submissionBody
	if err := bind(c, &req); err != nil {
		return req, err
	}
	req.Text = strings.TrimSpace(req.Text)
	var details []validate.FieldError
	if fe := validate.Text("text", req.Text, true, 2, 2000); fe != nil {
		details = append(details, *fe)
	}
	details = append(details, checkRefs("evidence", req.Evidence)...)
	if len(details) > 0 {
		return req, errValidation(details...)
	}
	return req, nil
}

// submit stores the user's text, then tells the workflow its ID (the
// submission's ID is the Update's); if the workflow refuses, the stored
// text is removed again, and an unknown outcome is settled
// (api/intake.go). send returns the workflow's answer or its raw error.
func (s *server) submit(c echo.Context, kind, caseID, sanctionID, accountID string, body submissionBody,
	send func(ctx context.Context, subID string) (any, error)) error {
	ctx := c.Request().Context()
	subID, keyed, err := s.intakeID(c, "submission."+kind, body)
	if err != nil {
		return err
	}
	repeat := false
	if keyed {
		if repeat, err = store.SubmissionFiled(ctx, s.DB, subID); err != nil {
			return err
		}
	}
	err = s.unlessRepeat(repeat, func() error {
		return inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
			if err := store.FileSubmission(ctx, tx, store.Submission{ID: subID, Kind: kind, CaseID: caseID, SanctionID: sanctionID,
				AccountID: accountID, Body: body.Text, Evidence: dedupe(body.Evidence)}); err != nil {
				return err
			}
			record, id := "case", caseID
			if sanctionID != "" {
				record, id = "sanction", sanctionID
			}
			return audit(ctx, tx, c, record+"."+kind+"_submitted", record, id, map[string]any{"submission_id": subID})
		})
	})
	if err != nil {
		return err
	}
	var res any
	err = s.settleIntake(ctx, "submission", subID, repeat, func(ctx context.Context, _ bool) error {
		r, err := send(ctx, subID)
		res = r
		return err
	}, func(ctx context.Context) {
		s.discardIntake(ctx, subID, store.DiscardCaseSubmission)
	})
	if err != nil {
		return fromWorkflow(err)
	}
	return c.JSON(http.StatusOK, res)
}

// answerCase: the user answers a fraud case about their account (session
// or restricted session), or the applicant one about their pending
// application (X-Follow-Token).
func (s *server) answerCase(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	cs, err := store.CasePartiesByID(ctx, s.DB, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	found := err == nil
	var actor workflows.Actor
	if follow := c.Request().Header.Get("X-Follow-Token"); follow != "" && caller(c) == nil {
		if !found || !cs.ApplicationID.Valid || cs.AccountID.Valid {
			return errNotFound()
		}
		stored, err := store.ApplicationFollowTokenHash(ctx, s.DB, cs.ApplicationID.String)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(stored, hashToken(follow)) != 1 {
			return errNotFound()
		}
		actor = workflows.Actor{Kind: "applicant", ID: cs.ApplicationID.String}
	} else {
		if err := s.requireCaseUser(func(echo.Context) error { return nil })(c); err != nil {
			return err
		}
		if !found || !cs.AccountID.Valid || cs.AccountID.String != caller(c).AccountID {
			return errNotFound()
		}
		actor = caller(c).actor()
	}
	if cs.Kind != workflows.KindFraud {
		return newError(http.StatusConflict, "conflict", "违规案件请报告改正情况", "a violation case takes a correction report, not an answer")
	}
	body, err := s.readSubmission(c)
	if err != nil {
		return err
	}
	return s.submit(c, "answer", id, "", cs.AccountID.String, body, func(ctx context.Context, subID string) (any, error) {
		var res workflows.CaseResult
		err := s.updateIntake(workflows.FraudWorkflowID(id), workflows.UpdateCaseAnswer, subID, workflows.CaseAnswer{Actor: actor, SubmissionID: subID}, &res)(ctx, false)
		return res, err
	})
}

func (s *server) reportCaseCorrection(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	kind, err := store.CaseKindOfAccount(ctx, s.DB, id, caller(c).AccountID)
	if err != nil {
		return err
	}
	if kind != workflows.KindViolation {
		return newError(http.StatusConflict, "conflict", "该案件请直接答复", "a fraud case takes an answer, not a correction report")
	}
	body, err := s.readSubmission(c)
	if err != nil {
		return err
	}
	actor := caller(c).actor()
	return s.submit(c, "correction", id, "", actor.ID, body, func(ctx context.Context, subID string) (any, error) {
		var res workflows.CaseResult
		err := s.updateIntake(workflows.ViolationWorkflowID(id), workflows.UpdateReportCorrection, subID,
			workflows.CorrectionReport{Actor: actor, SubmissionID: subID}, &res)(ctx, false)
		return res, err
	})
}

func (s *server) sanctionSubmission(c echo.Context, kind, update string) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	actor := caller(c).actor()
	wfID, err := s.sanctionRun(ctx, id, actor.ID)
	if err != nil {
		return err
	}
	body, err := s.readSubmission(c)
	if err != nil {
		return err
	}
	return s.submit(c, kind, "", id, actor.ID, body, func(ctx context.Context, subID string) (any, error) {
		var res workflows.SanctionResult
		var arg any = workflows.SanctionAppeal{Actor: actor, SubmissionID: subID}
		if kind == "correction" {
			arg = workflows.CorrectionReport{Actor: actor, SubmissionID: subID}
		}
		err := s.updateIntake(wfID, update, subID, arg, &res)(ctx, false)
		return res, err
	})
}

func (s *server) appealSanction(c echo.Context) error {
	return s.sanctionSubmission(c, "appeal", workflows.UpdateSanctionAppeal)
}

func (s *server) reportSanctionCorrection(c echo.Context) error {
	return s.sanctionSubmission(c, "correction", workflows.UpdateReportCorrection)
}
