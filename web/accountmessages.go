package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// The account page's messages (issue 18): what was sent to the person by
// SMS and e-mail and what became of it (GET /v1/accounts/{id}/messages):
// channel, kind, status, attempts, the provider's ID and the reason of a
// failure; never the text or a code.

func init() {
	addMessages(map[string][2]string{
		"action.account.messages_viewed":                {"工作人员查看短信及邮件发送记录", "message deliveries viewed by staff"},
		"account_messages.title":                        {"短信及邮件发送记录", "SMS and e-mail deliveries"},
		"account_messages.none":                         {"尚未向此账户发送短信或邮件。", "No SMS or e-mail has been sent to this account."},
		"account_messages.channel":                      {"渠道", "Channel"},
		"account_messages.kind":                         {"内容类型", "Kind"},
		"account_messages.status":                       {"状态", "Status"},
		"account_messages.attempts":                     {"尝试次数", "Attempts"},
		"account_messages.provider_id":                  {"服务商编号", "Provider ID"},
		"account_messages.reason":                       {"失败原因", "Reason"},
		"account_messages.created":                      {"生成时间", "Created"},
		"account_messages.last":                         {"最近尝试", "Last attempt"},
		"channel.sms":                                   {"短信", "SMS"},
		"channel.email":                                 {"电子邮件", "e-mail"},
		"delivery.queued":                               {"待发送", "queued"},
		"delivery.sent":                                 {"已发送", "sent"},
		"delivery.retrying":                             {"发送失败，将重试", "failed, retrying"},
		"delivery.failed":                               {"发送失败", "failed"},
		"delivery.abandoned":                            {"已放弃", "abandoned"},
		"message_kind.terms_revision":                   {"承诺书修订通知", "terms revision notice"},
		"message_kind.service_change":                   {"服务变更通知", "service change notice"},
		"message_kind.service_rules_changed":            {"服务变更通知", "service change notice"},
		"message_kind.service_retired":                  {"服务停办通知", "service retired notice"},
		"message_kind.registration_approved":            {"注册批准通知", "registration approved notice"},
		"message_kind.registration_rejected":            {"注册未获批准通知", "registration rejected notice"},
		"message_kind.registration_info_requested":      {"补充资料通知", "information requested notice"},
		"message_kind.verification_code_registration":   {"注册验证码", "registration code"},
		"message_kind.verification_code_pickup":         {"领取初始密码验证码", "pickup code"},
		"message_kind.verification_code_contact_change": {"更换手机号验证码", "mobile change code"},
	})
}

// accountMessages reads the account's messages for the account page; a
// refusal leaves the section out (nil), any other failure is the page's.
func (a *app) accountMessages(c echo.Context, id string) (map[string]any, *apiError) {
	var out map[string]any
	e := a.call(c, asSignedIn, http.MethodGet, "/v1/accounts/"+url.PathEscape(id)+"/messages?limit=50", nil, &out)
	if e != nil && e.Status == http.StatusForbidden {
		return nil, nil
	}
	return out, e
}
