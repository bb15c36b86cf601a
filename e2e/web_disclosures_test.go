package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C2.3 in the browser: a supervisor files a request under the law from the
// console (first without its legal document: the error is shown under the
// field), is told on its page that another must decide; a second
// supervisor finds it in the register, approves two of the three fields
// with a reason; the filer exports once and reads exactly the approved
// data on the page answering the POST. No personal data in any URL or in
// the request's run.
func TestWebDisclosureFileFourEyesApproveExport_C2_3(t *testing.T) {
	b := testenv.NewBrowser(t)
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)

	// --- The supervisor who files.
	filerName, filerFirst := staffAccount(t, s, workflows.RoleSupervisor)
	filer := b.Window()
	signIn(filer, s.URL, filerName, filerFirst)
	changePassword(filer, filerFirst, filerFirst+"-changed")
	filer.Do(chromedp.WaitVisible(chromedp.ID("disclosure-new-link")),
		chromedp.Focus(chromedp.ID("disclosure-new-link")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("f-id_number")),
		chromedp.SendKeys(chromedp.ID("f-id_number"), u.IDNumber),
		chromedp.SendKeys(chromedp.ID("f-requester"), "某区公安分局"),
		chromedp.Click(chromedp.ID("basis-law")),
		chromedp.SendKeys(chromedp.ID("f-purpose"), "案件调查"),
		chromedp.Click(chromedp.ID("field-name")),
		chromedp.Click(chromedp.ID("field-mobile")),
		chromedp.Click(chromedp.ID("field-address")),
		chromedp.Click(chromedp.ID("disclosure-submit")),
		chromedp.WaitVisible(chromedp.ID("legal_reference-error")))
	require.Equal(t, "true", filer.Attr("#f-legal_reference", "aria-invalid"))
	require.Equal(t, "law", filer.Attr(`input[name="basis"]:checked`, "value"), "the form keeps the choices")
	filer.Shot("file-field-error")
	require.Zero(t, dbCount(t, s, `SELECT count(*) FROM disclosure_requests`))

	filer.Do(chromedp.SendKeys(chromedp.ID("f-legal_reference"), "（2026）沪公调字第001号 调取证据通知书"),
		chromedp.Click(chromedp.ID("disclosure-submit")),
		chromedp.WaitVisible(chromedp.ID("disclosure-id")))
	require.Equal(t, "请求已录入。", filer.Text("#notice"))
	id := filer.Text("#disclosure-id")
	waitDisclosure(t, s, id, workflows.DisclosureAwaitingApproval)
	filer.Do(chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("four-eyes")))
	require.Equal(t, "awaiting_approval", filer.Attr("#disclosure-state", "data-status"))
	require.Contains(t, filer.Attr("#temporal-link", "href"), "/workflows/")
	keepScreenshot(t, filer.Shot("filed-four-eyes"), "disclosure-detail.png")

	// --- The second supervisor decides.
	supName, supFirst := staffAccount(t, s, workflows.RoleSupervisor)
	sup := b.Window()
	signIn(sup, s.URL, supName, supFirst)
	changePassword(sup, supFirst, supFirst+"-changed")
	sup.Do(chromedp.WaitVisible(chromedp.ID("disclosures-link")), chromedp.Click(chromedp.ID("disclosures-link")),
		chromedp.WaitVisible(chromedp.ID("f-status")),
		chromedp.SetValue(chromedp.ID("f-status"), "awaiting_approval"),
		chromedp.Click(chromedp.ID("filter-apply")),
		chromedp.WaitVisible(chromedp.CSS(`#disclosures tr[data-id="`+id+`"]`)))
	keepScreenshot(t, sup.Shot("register"), "disclosure-register.png")
	sup.Do(chromedp.Click(chromedp.CSS(`#disclosures tr[data-id="`+id+`"] a`)),
		chromedp.WaitVisible(chromedp.ID("f-decision")),
		chromedp.Click(chromedp.ID("decision-approve")),
		chromedp.Click(chromedp.ID("approve-name")),
		chromedp.Click(chromedp.ID("approve-mobile")),
		chromedp.SendKeys(chromedp.ID("f-reason"), "地址与本案无关"))
	sup.Shot("decision-form")
	sup.Do(chromedp.Click(chromedp.ID("disclosure-decide")), chromedp.WaitVisible(chromedp.ID("notice")))
	require.Equal(t, "决定已记录。", sup.Text("#notice"))
	require.Equal(t, "approved", sup.Attr("#disclosure-state", "data-status"))
	require.Equal(t, "姓名、手机号码", sup.Text("#approved-fields"))
	sup.Shot("approved")

	// --- The filer exports, once.
	filer.Do(chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("disclosure-export")),
		chromedp.Click(chromedp.ID("disclosure-export")),
		chromedp.WaitVisible(chromedp.ID("export-data")))
	require.Contains(t, filer.Text(`#export-data tr[data-field="name"]`), u.Name)
	require.Contains(t, filer.Text(`#export-data tr[data-field="mobile"]`), u.Mobile)
	data := filer.Text("#export-data")
	require.NotContains(t, data, u.Address)
	loc := testenv.Run(filer, chromedp.Location())
	require.True(t, strings.HasSuffix(loc, "/console/disclosures/"+id+"/export"), loc)
	keepScreenshot(t, filer.Shot("export"), "disclosure-export.png")
	require.Equal(t, workflows.DisclosureDelivered, disclosureStatus(s, id))
	filer.Do(chromedp.Click(chromedp.ID("export-back")), chromedp.WaitVisible(chromedp.ID("delivered-at")))
	require.Equal(t, "delivered", filer.Attr("#disclosure-state", "data-status"))

	assertNoPersonalDataInURLs(t, b, u.Name, u.IDNumber, u.Mobile, u.Address, u.Password)
	AssertNoSecretsInHistory(t, s, []string{workflows.DisclosureWorkflowID(id)}, u.Name, u.IDNumber, u.Mobile, u.Address, u.Password)
}
