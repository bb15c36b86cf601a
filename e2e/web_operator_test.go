package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// Issue 17, C2.1 / design §4: an operator signed in to the console reads a
// registration review decoded in the Temporal web UI (the pinned UI server
// decoding through the API's /codec with the console's session cookie):
// its input (application ID, channel), the decide Update, and why the
// approval activity is failing. The same page opened by a reviewer, or
// signed out, shows no clear data. Then the bad row is repaired and the
// run completes, issuing one initial password.
func TestWebOperatorReadsDecodedRunInTemporalUI_C2_1(t *testing.T) {
	b := testenv.NewBrowser(t)
	uiURL := testenv.ReserveUIURL(t)
	s := testenv.Start(t, testenv.Options{UIURL: uiURL})
	testenv.StartUIServer(t, uiURL, os.Getenv("TEMPORAL_ADDRESS"), s.URL+"/codec")
	id, p, repair := stuckApproval(t, s)
	wfID := workflows.RegistrationWorkflowID(id)
	runURL := uiURL + "/namespaces/default/workflows/" + strings.ReplaceAll(wfID, "/", "%2F")

	operator, first := staffAccount(t, s, workflows.RoleOperator)
	w := b.Window()
	quickSignIn(w, s.URL, operator, first)
	w.Do(chromedp.WaitVisible(chromedp.ID("operations-link")))

	// The operator opens the run in the web UI, in the same browser: the
	// input is decoded (application ID and channel, no personal data)…
	ui := w.Tab()
	ui.Do(chromedp.Navigate(runURL))
	waitForPage(t, ui, wfID, `"application_id": "`+id+`"`, `"channel": "online"`)
	// …and so is the decide Update (the reviewer's decision).
	ui.Do(chromedp.Click(chromedp.Search(`//tr[@data-testid="event-summary-row"][contains(., "Update Accepted")]`)))
	waitForPage(t, ui, `"decision": "approve"`)
	keepScreenshot(t, ui.Shot("operator-decoded-run"), "temporal-decoded-run.png")
	// Why the approval activity retries: its last failure, decoded.
	ui.Do(chromedp.Click(chromedp.ID("pending-activities-tab")))
	waitForPage(t, ui, "accounts_live_username", "ApproveApplication")
	ui.Do(chromedp.ScrollIntoView(chromedp.Search(`//*[normalize-space(text())="Last Failure"]`)))
	keepScreenshot(t, ui.Shot("operator-decoded-failure"), "temporal-decoded-failure.png")
	body := testenv.Run(ui, chromedp.Text(chromedp.CSS("body")))
	for _, personal := range []string{p.Name, p.IDNumber, p.Mobile, p.Address} {
		require.NotContains(t, body, personal)
	}

	// A reviewer signed in to the console, and a signed-out browser, open
	// the same page: nothing in clear.
	reviewer, rfirst := staffAccount(t, s, workflows.RoleReviewer)
	rw := b.Window()
	quickSignIn(rw, s.URL, reviewer, rfirst)
	rw.Do(chromedp.WaitVisible(chromedp.ID("console-menu")))
	for i, win := range []*testenv.Window{rw.Tab(), b.Window()} {
		// The UI says its codec call was refused and shows the payloads
		// as they are stored.
		win.Do(chromedp.Navigate(runURL))
		waitForPage(t, win, wfID, "Codec Server could not connect")
		text := testenv.Run(win, chromedp.Text(chromedp.CSS("body")))
		require.NotContains(t, text, `"application_id"`)
		require.NotContains(t, text, `"channel"`)
		if i == 0 {
			keepScreenshot(t, win.Shot("reviewer-encoded-run"), "temporal-encoded-run.png")
		}
		win.Do(chromedp.Click(chromedp.ID("pending-activities-tab")), waitForText("ApproveApplication"))
		require.NotContains(t, testenv.Run(win, chromedp.Text(chromedp.CSS("body"))), "accounts_live_username")
	}

	// The operator's decoding is audited; the reviewer's refused calls
	// decoded nothing.
	var decoded int
	require.NoError(t, s.DB.Get(&decoded, `SELECT count(*) FROM audit_log a JOIN staff st ON st.id::text = a.actor_id
		WHERE a.action = 'codec.decoded' AND st.username = $1 AND a.detail->>'via' = 'console_session'`, operator))
	require.Positive(t, decoded)

	// The repair of the bad row lets the approval complete: one password.
	repair()
	testenv.Eventually(t, 90*time.Second, "the approval to complete after the repair", func() bool {
		var status string
		_ = s.DB.Get(&status, `SELECT status FROM applications WHERE id = $1`, id)
		return status == "approved"
	})
	var pickups int
	require.NoError(t, s.DB.Get(&pickups, `SELECT count(*) FROM credential_pickups WHERE operation_key = $1`, "registration/"+id))
	require.Equal(t, 1, pickups)
}

// waitForPage waits until the page's text holds every string, and shows
// the text when it does not.
func waitForPage(t *testing.T, w *testenv.Window, want ...string) {
	t.Helper()
	var text string
	deadline := time.Now().Add(2 * testenv.StepTimeout)
	for time.Now().Before(deadline) {
		text = testenv.Run(w, chromedp.Text(chromedp.CSS("body")))
		missing := false
		for _, s := range want {
			if !strings.Contains(text, s) {
				missing = true
			}
		}
		if !missing {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	w.Shot("missing")
	t.Fatalf("the page does not show %q; it shows:\n%s", want, text)
}

// quickSignIn signs a new staff member in and answers the forced password
// change, filling the fields at once rather than key by key (this test's
// subject is the web UI; the sign-in forms have their own keyboard tests).
func quickSignIn(w *testenv.Window, base, username, password string) {
	w.Do(chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.ID("f-username")),
		chromedp.SetValue(chromedp.ID("f-username"), username), chromedp.SetValue(chromedp.ID("f-password"), password),
		chromedp.Submit(chromedp.ID("f-password")))
	browserSecrets.signedIn(w, username)
	w.Do(chromedp.WaitVisible(chromedp.ID("forced")),
		chromedp.SetValue(chromedp.ID("f-old_password"), password),
		chromedp.SetValue(chromedp.ID("f-new_password"), password+"-changed"),
		chromedp.SetValue(chromedp.ID("f-new_password2"), password+"-changed"),
		chromedp.Click(chromedp.ID("password-submit")))
	// A new staff member enrols the second factor next (required by
	// default), with the secret the page shows, then opens the console.
	if waitLeave(w, "/password") == "/second-factor" {
		enrolInBrowser(w)
		w.Do(chromedp.Click(chromedp.ID("recovery-continue")), chromedp.WaitVisible(chromedp.ID("main")),
			chromedp.Navigate(base+"/console"))
	}
}
