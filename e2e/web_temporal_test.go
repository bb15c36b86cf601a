package e2e

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C2.1 / design §4: the console links each application to its run in the
// Temporal web UI, and an operator finds the run there by its typed search
// attributes. The shared dev server runs without its UI, so this test
// starts its own dev server with the UI and points a stack at it.
func TestWebConsoleLinksToRunFoundBySearchAttributeInTemporalUI_C2_1(t *testing.T) {
	b := testenv.NewBrowser(t)
	address, uiURL := testenv.StartDevServerWithUI(t)
	t.Setenv("TEMPORAL_ADDRESS", address)
	s := testenv.Start(t, testenv.Options{UIURL: uiURL})
	reviewer, first := staffAccount(t, s, workflows.RoleReviewer)
	p := testenv.NewPerson()
	id, _ := s.Register(p, "social_insurance_query")
	s.WaitForStatus(id, "pending")
	wfID := workflows.RegistrationWorkflowID(id)

	// The reviewer approves in the console; the page links to the run.
	w := b.Window()
	signIn(w, s.URL, reviewer, first)
	changePassword(w, first, first+"-changed")
	w.Do(chromedp.WaitVisible(chromedp.ID("queue")),
		chromedp.Click(chromedp.CSS(`#queue tr[data-id="`+id+`"] a.button`)),
		chromedp.WaitVisible(chromedp.ID("decision-form")),
		chromedp.Click(chromedp.ID("decision-approve")), chromedp.Click(chromedp.ID("decision-submit")),
		chromedp.WaitVisible(chromedp.ID("pickup-by-applicant")))
	runLink := w.Attr("#temporal-link", "href")
	searchLink := w.Attr("#temporal-search-link", "href")
	require.True(t, strings.HasPrefix(runLink, uiURL+"/namespaces/default/workflows/"), runLink)
	require.True(t, strings.HasPrefix(searchLink, uiURL+"/namespaces/default/workflows?query="), searchLink)

	// Visibility catches up with the approval.
	testenv.Eventually(t, 20*time.Second, "visibility to show the approved run", func() bool {
		resp, err := s.Temporal.ListWorkflow(testenv.Context(t), listRequest(`WorkflowId = "`+wfID+`" AND HrssStatus = "approved"`))
		return err == nil && len(resp.Executions) == 1
	})

	// The run's link opens the run in the web UI.
	ui := b.Window()
	ui.Do(chromedp.Navigate(runLink), waitForText(wfID))
	ui.Shot("temporal-run")

	// The operator finds it in the list by its search attributes alone.
	q := `HrssKind = "registration" AND HrssStatus = "approved"`
	ui.Do(chromedp.Navigate(uiURL+"/namespaces/default/workflows?query="+url.QueryEscape(q)), waitForText(wfID))
	ui.Shot("temporal-search-attribute")
	// …and not under another status.
	q = `HrssKind = "registration" AND HrssStatus = "pending"`
	ui.Do(chromedp.Navigate(uiURL+"/namespaces/default/workflows?query="+url.QueryEscape(q)), waitForText("No Results"))
	require.NotContains(t, testenv.Run(ui, chromedp.Text(chromedp.CSS("body"))), wfID)

	// The console's own search link finds it too.
	ui.Do(chromedp.Navigate(searchLink), waitForText(wfID))

	assertNoPersonalDataInURLs(t, b, p.Name, p.IDNumber, p.Mobile)
	AssertNoSecretsInHistory(t, s, []string{wfID}, p.Name, p.IDNumber, p.Mobile, p.Address)
}

// waitForText waits until the page's text contains s (the web UI renders
// in the browser after it loads).
func waitForText(s string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](`document.body && document.body.innerText.includes(`+strconv.Quote(s)+`)`,
		chromedp.WithPollingInterval(250*time.Millisecond))
}
