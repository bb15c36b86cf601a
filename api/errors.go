package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
	"hrss-backoffice/workflows"
)

// Error is the one error shape every endpoint answers with: a stable code,
// a message in Chinese and in English, and field-level details.
type Error struct {
	Status    int                   `json:"-"`
	Code      string                `json:"code"`
	MessageZH string                `json:"message_zh"`
	MessageEN string                `json:"message_en"`
	RequestID string                `json:"request_id,omitempty"`
	Details   []validate.FieldError `json:"details,omitempty"`
	// RetryAfter, in seconds, is sent as the Retry-After header.
	RetryAfter int `json:"-"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.MessageEN) }

func newError(status int, code, zh, en string) *Error {
	return &Error{Status: status, Code: code, MessageZH: zh, MessageEN: en}
}

func errValidation(details ...validate.FieldError) *Error {
	e := newError(http.StatusUnprocessableEntity, "validation_failed", "提交的数据未通过校验", "the request did not pass validation")
	e.Details = details
	return e
}

func errNotFound() *Error {
	return newError(http.StatusNotFound, "not_found", "未找到，或您无权查看", "not found, or not yours to see")
}

func errUnauthenticated() *Error {
	return newError(http.StatusUnauthorized, "unauthenticated", "请先登录", "sign in first")
}

func errForbidden(en, zh string) *Error {
	return newError(http.StatusForbidden, "forbidden", zh, en)
}

func errUnavailable() *Error {
	return newError(http.StatusServiceUnavailable, "unavailable", "服务暂时不可用，请稍后重试", "the service is temporarily unavailable; try again shortly")
}

// fromWorkflow maps an Update rejection or failure to an HTTP error: the
// workflow's validators speak in the error types of workflows.ErrType*.
func fromWorkflow(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch appErr.Type() {
		case workflows.ErrTypeForbidden:
			return errForbidden(appErr.Message(), "您无权执行此操作")
		case workflows.ErrTypeConflict:
			return newError(http.StatusConflict, "conflict", "当前状态不允许此操作："+appErr.Message(), appErr.Message())
		case workflows.ErrTypeInvalid:
			return newError(http.StatusUnprocessableEntity, "invalid", "请求无效："+appErr.Message(), appErr.Message())
		}
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return newError(http.StatusConflict, "closed", "该申请已办结", "the application is closed")
	}
	slog.Error("workflow call failed", "error", err)
	return errUnavailable()
}

// handleError writes every error in the shared shape. Echo's own errors
// (unknown route, wrong method, body too large) are mapped too; anything
// unexpected is logged and answered with a generic 500.
func handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var e *Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &e):
	case errors.Is(err, store.ErrNotFound):
		// A missing row says nothing about whether the record exists for
		// someone else.
		e = errNotFound()
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotFound:
			e = errNotFound()
		case http.StatusMethodNotAllowed:
			e = newError(he.Code, "method_not_allowed", "不支持该请求方法", "method not allowed")
		case http.StatusRequestEntityTooLarge:
			e = newError(he.Code, "body_too_large", "请求内容过大", "the request body is too large")
		case http.StatusUnsupportedMediaType:
			e = newError(he.Code, "unsupported_media_type", "请以 application/json 提交", "send application/json")
		case http.StatusBadRequest:
			e = newError(he.Code, "bad_request", "请求格式错误", "malformed request")
		default:
			e = newError(he.Code, "error", http.StatusText(he.Code), http.StatusText(he.Code))
		}
	default:
		slog.Error("unhandled error", "error", err, "path", c.Path())
		e = newError(http.StatusInternalServerError, "internal", "系统内部错误", "internal error")
	}
	e.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	retryAfter(c, e)
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(e.Status)
		return
	}
	_ = c.JSON(e.Status, map[string]*Error{"error": e})
}
