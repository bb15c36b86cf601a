package authz

// Actions. Route-level gates first, then one action per decision.
const (
	Public   Action = "public"    // anyone, signed in or not
	SignedIn Action = "signed_in" // any session: own account, password, sign-out
	UserArea Action = "user_area" // a user's own records (/v1/me/…)
	Console  Action = "console"   // any staff member: the staff routes

	RegistrationStaffAccess Action = "registration.staff_access"
	RegistrationDecide      Action = "registration.decide"
	ReviewQueue             Action = "registration.queue"
	InitialPasswordPickup   Action = "registration.initial_password"
	CounterEntry            Action = "registration.counter_entry"
	KioskManage             Action = "kiosk.manage"

	StaffList              Action = "staff.list"
	StaffCreate            Action = "staff.create"
	StaffUpdate            Action = "staff.update"
	StaffSetPassword       Action = "staff.set_password"
	StaffSecondFactorReset Action = "staff.second_factor_reset"
	StaffChangeDecide      Action = "staff_change.decide"

	AccountSearch       Action = "account.search"
	AccountActivityRead Action = "account.activity"
	DataChangeOwn       Action = "data_change.own"
	DataChangeRead      Action = "data_change.read"
	DataChangeQueue     Action = "data_change.queue"
	DataChangeDecide    Action = "data_change.decide"

	CompromiseReportForCaller Action = "compromise.report_for_caller"
	PasswordReset             Action = "password.reset"
	PasswordResetPickup       Action = "password.reset_pickup"

	FraudCaseOpen            Action = "case.open_fraud"
	ViolationCaseOpen        Action = "case.open_violation"
	CaseRead                 Action = "case.read"
	CaseDecide               Action = "case.decide"
	CaseCorrectionReview     Action = "case.correction_review"
	SanctionRead             Action = "sanction.read"
	SanctionLift             Action = "sanction.lift"
	SanctionCorrectionReview Action = "sanction.correction_review"
	SanctionAppealDecide     Action = "sanction.appeal_decide"

	DisclosureEnter    Action = "disclosure.enter"
	DisclosureRegister Action = "disclosure.register"
	DisclosureReadOwn  Action = "disclosure.read_own"
	DisclosureDecide   Action = "disclosure.decide"
	DisclosureExport   Action = "disclosure.export"

	TermsDraft         Action = "terms.draft"
	TermsPublish       Action = "terms.publish"
	TermsDraftRead     Action = "terms.draft_read"
	CampaignProgress   Action = "terms.campaign_progress"
	CampaignControl    Action = "terms.campaign_control"
	AnnouncementCreate Action = "announcement.create"
	CatalogueRead      Action = "catalogue.read"
	ServiceEdit        Action = "catalogue.edit"

	AuditRead      Action = "audit.read"
	OperationsRead Action = "operations.read"
	CodecDecode    Action = "codec.decode"
	CodecEncode    Action = "codec.encode"
)

var (
	anyone    = []string{Anonymous, User, Staff}
	sessions  = []string{User, Staff}
	users     = []string{User}
	staffKind = []string{Staff}

	counter         = []string{RoleReviewer, RoleSupervisor}
	activityReaders = []string{RoleReviewer, RoleSupervisor, RoleInvestigator, RoleAdministrator, RoleAuditor}
	caseDeciders    = []string{RoleInvestigator, RoleSupervisor}
	caseReaders     = []string{RoleInvestigator, RoleSupervisor, RoleAuditor}
	admins          = []string{RoleAdministrator}
	editors         = []string{RoleTermsEditor, RoleAdministrator}
	filers          = []string{RoleReviewer, RoleSupervisor, RoleAdministrator, RoleInvestigator}
	registerReaders = []string{RoleAuditor, RoleSupervisor, RoleAdministrator}
	runReaders      = []string{RoleOperator, RoleAdministrator, RoleAuditor}
)

// policy is the table. Each rule names the clause of the agreement
// (docs: /work/shared/docs/requirements.md) it serves.
var policy = map[Action]Rule{
	// C1.5: registration is open to anyone through any channel.
	Public: {Kinds: anyone, Clause: "C1.5"},
	// C3.3(2), C3.3(4): a session of either kind manages its own account.
	SignedIn: {Kinds: sessions, Clause: "C3.3(2)"},
	// C1.1–C1.3: a user's own records are the user's alone.
	UserArea: {Kinds: users, Object: OwnRecord, Clause: "C1.1"},
	// C1.4: administration is for the operator's staff.
	Console: {Kinds: staffKind, Clause: "C1.4"},

	// C2.1/C3.1: reviewers decide registrations on the spot.
	RegistrationStaffAccess: {Kinds: staffKind, Roles: []string{RoleReviewer, RoleSupervisor, RoleAdministrator}, Clause: "C2.1"},
	RegistrationDecide:      {Kinds: staffKind, Roles: counter, Clause: "C2.1"},
	ReviewQueue:             {Kinds: staffKind, Roles: counter, Clause: "C2.1"},
	// C1.5: the reviewer who approved hands the initial password over.
	InitialPasswordPickup: {Kinds: staffKind, Roles: counter, Object: Handler, Clause: "C1.5"},
	// C1.5: an application entered at a service office counter.
	CounterEntry: {Kinds: staffKind, Roles: counter, Clause: "C1.5"},
	// C1.5: kiosks are a registration channel the operator runs.
	KioskManage: {Kinds: staffKind, Roles: admins, Clause: "C1.5",
		DenyEN: "only an administrator manages kiosks", DenyZH: "仅管理员可以管理自助终端"},

	// C1.4: administrators manage staff, a second one approves (four eyes).
	StaffList:              {Kinds: staffKind, Roles: admins, Clause: "C1.4"},
	StaffCreate:            {Kinds: staffKind, Roles: admins, Object: FourEyes, Clause: "C1.4"},
	StaffUpdate:            {Kinds: staffKind, Roles: admins, Object: FourEyes, Clause: "C1.4"},
	StaffSetPassword:       {Kinds: staffKind, Roles: admins, Object: FourEyes, Clause: "C1.4"},
	StaffSecondFactorReset: {Kinds: staffKind, Roles: admins, Object: FourEyes, Clause: "C1.4"},
	StaffChangeDecide: {Kinds: staffKind, Roles: admins, Object: FourEyes, Clause: "C1.4",
		DenyEN: "only an administrator may see or decide staff changes", DenyZH: "仅管理员可以查看或审批工作人员变更"},

	// C3.3(4): the activity record; staff reading it is itself recorded.
	AccountSearch:       {Kinds: staffKind, Roles: activityReaders, Clause: "C3.3(4)"},
	AccountActivityRead: {Kinds: staffKind, Roles: activityReaders, Clause: "C3.3(4)"},
	// C3.2: users keep their data up to date; the counter decides.
	DataChangeOwn:    {Kinds: users, Object: OwnRecord, Clause: "C3.2"},
	DataChangeRead:   {Kinds: staffKind, Roles: activityReaders, Clause: "C3.2"},
	DataChangeQueue:  {Kinds: staffKind, Roles: counter, Clause: "C3.2"},
	DataChangeDecide: {Kinds: staffKind, Roles: counter, Clause: "C3.2"},

	// C3.3(3): a compromise is reported, and the password changed in
	// person at a service office.
	CompromiseReportForCaller: {Kinds: staffKind, Roles: []string{RoleReviewer, RoleSupervisor, RoleInvestigator}, Clause: "C3.3(3)"},
	PasswordReset:             {Kinds: staffKind, Roles: counter, Clause: "C3.3(3)"},
	PasswordResetPickup:       {Kinds: staffKind, Roles: counter, Object: Handler, Clause: "C3.3(3)"},

	// C2.2 (fraud) and C2.5 (violations): investigators open cases,
	// investigators and supervisors decide, auditors read.
	FraudCaseOpen:            {Kinds: staffKind, Roles: []string{RoleInvestigator}, Clause: "C2.2"},
	ViolationCaseOpen:        {Kinds: staffKind, Roles: []string{RoleInvestigator}, Clause: "C2.5"},
	CaseRead:                 {Kinds: staffKind, Roles: caseReaders, Clause: "C2.2"},
	CaseDecide:               {Kinds: staffKind, Roles: caseDeciders, Clause: "C2.2"},
	CaseCorrectionReview:     {Kinds: staffKind, Roles: caseDeciders, Clause: "C2.5"},
	SanctionRead:             {Kinds: staffKind, Roles: caseReaders, Clause: "C2.5"},
	SanctionLift:             {Kinds: staffKind, Roles: []string{RoleSupervisor}, Clause: "C2.5"},
	SanctionCorrectionReview: {Kinds: staffKind, Roles: caseDeciders, Clause: "C2.5"},
	// Neither who imposed the sanction nor who opened the case decides its appeal.
	SanctionAppealDecide: {Kinds: staffKind, Roles: []string{RoleSupervisor, RoleInvestigator}, Object: FourEyes, Clause: "C2.5"},

	// C2.3: disclosure only on a lawful basis, entered by one staff member,
	// approved by a second, read by the register's readers.
	DisclosureEnter:    {Kinds: staffKind, Roles: filers, Clause: "C2.3"},
	DisclosureRegister: {Kinds: staffKind, Roles: registerReaders, Clause: "C2.3"},
	DisclosureReadOwn: {Kinds: staffKind, Roles: []string{RoleReviewer, RoleSupervisor, RoleAdministrator, RoleInvestigator, RoleAuditor},
		Object: Filer, Clause: "C2.3"},
	DisclosureDecide: {Kinds: staffKind, Roles: []string{RoleSupervisor, RoleAdministrator}, Object: FourEyes, Clause: "C2.3"},
	DisclosureExport: {Kinds: staffKind, Object: Filer, Clause: "C2.3"},

	// C2.7: the operator revises terms and notifies users.
	TermsDraft:         {Kinds: staffKind, Roles: editors, Clause: "C2.7"},
	TermsPublish:       {Kinds: staffKind, Roles: editors, Clause: "C2.7"},
	TermsDraftRead:     {Kinds: staffKind, Roles: editors, Clause: "C2.7"},
	CampaignProgress:   {Kinds: staffKind, Roles: []string{RoleTermsEditor, RoleAdministrator, RoleAuditor}, Clause: "C2.7"},
	CampaignControl:    {Kinds: staffKind, Roles: editors, Clause: "C2.7"},
	AnnouncementCreate: {Kinds: staffKind, Roles: admins, Clause: "C2.7"},
	// C1.4, C2.7: the operator owns the services and changes them.
	CatalogueRead: {Kinds: staffKind, Roles: []string{RoleTermsEditor, RoleAdministrator, RoleAuditor}, Clause: "C1.4"},
	ServiceEdit:   {Kinds: staffKind, Roles: editors, Clause: "C2.7"},

	// C3.3(4): the audit log, read by auditors.
	AuditRead: {Kinds: staffKind, Roles: []string{RoleAuditor}, Clause: "C3.3(4)"},
	// C2.6: running the site; payloads stay sealed (C2.3) except to these.
	OperationsRead: {Kinds: staffKind, Roles: runReaders, Clause: "C2.6"},
	CodecDecode:    {Kinds: staffKind, Roles: runReaders, Clause: "C2.6"},
	CodecEncode:    {Kinds: staffKind, Roles: admins, Clause: "C2.3"},
}
