package e2e

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"hrss-backoffice/internal/payloadcodec"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// canaryName is a valid Chinese name unlikely to occur anywhere else.
func canaryName() string {
	const rare = "鑫淼焱垚犇骉麤羴赑掱"
	r := []rune(rare)
	return "欧阳" + string(r[rand.IntN(len(r))]) + string(r[rand.IntN(len(r))])
}

// The canary (C4, the rule on personal data): people whose name, ID number,
// mobile, address and passwords are unique markers go through the main
// processes over HTTP (registration with an information request and a
// withdrawal, approval and pickup, sign-in, password change, contact and
// name changes, cancelling a service, a security report and an in-person
// reset). Afterwards no marker appears in clear in any history of the
// test's task queue (every workflow listed by the visibility store, all its
// events, payloads decoded with the key), in any search attribute or memo,
// or in the captured logs of API, worker and SDK.
func TestCanaryMarkersNeverLeave_C4(t *testing.T) {
	logs := captureLogs(t)
	// A dev server of the test's own, persisting to a file, so that what
	// Temporal stores and logs can be searched too.
	server := testenv.StartDevServerWithFile(t)
	s := testenv.Start(t, testenv.Options{LogTo: logs, TemporalAddress: server.Address})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	var markers []string

	// An applicant who withdraws after an information request.
	w := testenv.NewPerson()
	w.Name = canaryName()
	markers = append(markers, w.Name, w.IDNumber, w.Mobile, w.Address)
	wid, follow := s.Register(w)
	markers = append(markers, follow)
	s.WaitForStatus(wid, "pending")
	s.Expect(s.Do("POST", "/v1/registrations/"+wid+"/withdraw", map[string]any{}, testenv.Follow(follow)), http.StatusOK)
	s.WaitForStatus(wid, "withdrawn")

	// A user through the main lifecycle.
	p := testenv.NewPerson()
	p.Name = canaryName()
	markers = append(markers, p.Name, p.IDNumber, p.Mobile, p.Address)
	u := s.User(p, "social_insurance_query", "employment_registration")
	markers = append(markers, u.Initial, u.Password, u.Token)
	newPass := fmt.Sprintf("Canary-Pass-%d-Zz", rand.IntN(1_000_000_000))
	s.ChangePassword(u.Token, u.Password, newPass)
	markers = append(markers, newPass)
	newMobile := fmt.Sprintf("137%08d", rand.IntN(100_000_000))
	newAddress := fmt.Sprintf("北京市东城区金丝雀胡同%d号", rand.IntN(10_000))
	s.Expect(s.Do("PATCH", "/v1/me", map[string]string{"mobile": newMobile, "address": newAddress}, testenv.Bearer(u.Token)), http.StatusOK)
	markers = append(markers, newMobile, newAddress)
	newName := canaryName()
	dc := s.Expect(s.Do("POST", "/v1/me/data-changes", map[string]string{"name": newName, "note": "金丝雀更名"}, testenv.Bearer(u.Token)), http.StatusAccepted)
	markers = append(markers, newName)
	s.Expect(s.Do("POST", "/v1/data-changes/"+dc.Str("id")+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewer)), http.StatusOK)
	statement := "金丝雀声明：取消就业登记服务"
	dr := s.Expect(s.Do("POST", "/v1/me/deregistration", map[string]any{"scope": "services", "services": []string{"employment_registration"},
		"statement": statement, "password": newPass}, testenv.Bearer(u.Token)), http.StatusAccepted)
	waitDereg(t, s, dr.Str("id"), "completed")
	markers = append(markers, statement)
	report := "金丝雀报告：账户被他人使用"
	s.Expect(s.Do("POST", "/v1/me/security-reports", map[string]string{"description": report}, testenv.Bearer(u.Token)), http.StatusAccepted)
	markers = append(markers, report)

	// Every workflow on this stack's task queue.
	ctx := testenv.Context(t)
	var ids []string
	var visibility []string
	var infos []*workflowpb.WorkflowExecutionInfo
	testenv.Eventually(t, 30*time.Second, "the visibility store to list the workflows", func() bool {
		ids, visibility, infos = nil, nil, nil
		var token []byte
		for {
			resp, err := s.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default",
				Query: fmt.Sprintf("TaskQueue = %q", s.TaskQueue), NextPageToken: token})
			if err != nil {
				return false
			}
			for _, e := range resp.Executions {
				ids = append(ids, e.Execution.WorkflowId)
				infos = append(infos, e)
				// Search attributes (plain) and memo (decoded), raw bytes.
				if err := payloadcodec.DecodeMessage(ctx, s.Codec, e); err != nil {
					return false
				}
				bin, _ := proto.Marshal(e)
				visibility = append(visibility, string(bin))
			}
			if token = resp.NextPageToken; len(token) == 0 {
				break
			}
		}
		return len(ids) >= 4
	})
	t.Logf("scanned %d workflows, %d markers", len(ids), len(markers))
	// Every run, of every kind here, says in clear what it is about.
	for _, e := range infos {
		rec := plainRecord(t, e.GetMemo())
		require.Equal(t, searchText(e, "HrssKind"), rec.Kind, e.GetExecution().GetWorkflowId())
		require.NotEmpty(t, rec.Clause)
		require.True(t, strings.HasPrefix(rec.Console, "/console/"), rec.Console)
		require.NotEmpty(t, searchText(e, "HrssSince"), e.GetExecution().GetWorkflowId())
	}
	require.Contains(t, ids, workflows.RegistrationWorkflowID(u.ApplicationID))
	AssertNoSecretsInHistory(t, s, ids, markers...)
	// Control: the scan reads decoded payloads (an ID, which may be there,
	// is found), so the absence of the markers is not the encryption's.
	bin, err := proto.Marshal(history(t, s, workflows.RegistrationWorkflowID(u.ApplicationID)))
	require.NoError(t, err)
	require.Contains(t, string(bin), u.AccountID)
	require.Contains(t, strings.Join(visibility, ""), "registration", "the search attributes were read")
	for i, v := range visibility {
		for _, m := range markers {
			if strings.Contains(v, m) {
				t.Errorf("search attributes or memo of %s contain a marker (%q…)", ids[i], m[:min(len(m), 3)])
			}
		}
	}
	assertNoSecretsInLogs(t, logs, markers...)
	assertNotInServerFiles(t, server, ids, markers)
	// The logs did capture the run, so their silence means something.
	require.Contains(t, logs.String(), "/v1/registrations")
}

// assertNotInServerFiles searches the Temporal server's SQLite file (with
// its journal) and its log for the markers. A control first finds the
// workflow IDs there, so the search reads what the server stored.
func assertNotInServerFiles(t *testing.T, server testenv.DevServer, workflowIDs, markers []string) {
	t.Helper()
	var stored []byte
	testenv.Eventually(t, 30*time.Second, "the workflows in the server's database file", func() bool {
		stored = stored[:0]
		for _, suffix := range []string{"", "-wal", "-journal"} {
			b, err := os.ReadFile(server.DBFile + suffix)
			if err == nil {
				stored = append(stored, b...)
			}
		}
		return len(workflowIDs) > 0 && bytes.Contains(stored, []byte(workflowIDs[0]))
	})
	serverLog, err := os.ReadFile(server.LogFile)
	require.NoError(t, err)
	for _, m := range markers {
		require.Falsef(t, bytes.Contains(stored, []byte(m)), "a marker (%q…) is in the Temporal database file", m[:min(len(m), 3)])
		require.Falsef(t, bytes.Contains(serverLog, []byte(m)), "a marker (%q…) is in the Temporal server log", m[:min(len(m), 3)])
	}
	t.Logf("searched %d bytes of the Temporal database file and %d bytes of its log", len(stored), len(serverLog))
}
