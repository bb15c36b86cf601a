package api

import (
	"context"
	"net/http"

	"hrss-backoffice/store"
)

// Four eyes against a hand-picked second pair (issue 15): an approval is
// refused from a member whose account, password, second factor or roles
// the requester changed in the last 30 days, as the audit log records it.
// Otherwise one administrator could create (or reset the password of) a
// supervisor, sign in as them and approve their own request.

const fourEyesCooling = "30 days"

// staffChangeActions are the audit actions of one member changing another.
var staffChangeActions = []string{"staff.created", "staff.updated", "staff.password_set", "staff.second_factor_reset"}

// changedByRequester reports whether requester changed approver's account
// within the cooling period: asked for the change, or approved it as the
// second administrator (who then received any first password).
func (s *server) changedByRequester(ctx context.Context, requesterID, approverID string) (bool, error) {
	return store.StaffChangedBy(ctx, s.DB, requesterID, approverID, staffChangeActions, fourEyesCooling)
}

// refuseHandPickedApprover is the check of a four-eyes decision.
func (s *server) refuseHandPickedApprover(ctx context.Context, requesterID, approverID string) error {
	changed, err := s.changedByRequester(ctx, requesterID, approverID)
	if err != nil {
		return err
	}
	if changed {
		return newError(http.StatusForbidden, "four_eyes", "请求人在30天内修改过您的账户、密码、动态验证码或角色，您不得审批该请求",
			"the requester changed your account, password, second factor or roles in the last 30 days; you may not approve their request")
	}
	return nil
}
