package web

// Texts shared by every page. Each process keeps its own texts in its file.
func init() {
	addMessages(map[string][2]string{
		"site.name":    {"人力资源和社会保障网上服务", "Human Resources and Social Security Online"},
		"site.console": {"工作人员控制台", "Staff console"},
		"site.footer":  {"本网站由市人力资源和社会保障局运营。请勿在公共设备上保存密码。", "Run by the city's Human Resources and Social Security Bureau. Do not save passwords on shared devices."},
		"nav.skip":     {"跳到主要内容", "Skip to main content"},
		"nav.label":    {"主导航", "Main navigation"},
		"nav.register": {"注册", "Register"},
		"nav.follow":   {"查询申请进度", "Follow an application"},
		"nav.signin":   {"登录", "Sign in"},
		"nav.signout":  {"退出登录", "Sign out"},
		"nav.account":  {"我的账户", "My account"},
		"nav.console":  {"控制台", "Console"},

		"home.title":          {"欢迎", "Welcome"},
		"home.lead":           {"在这里注册成为网站用户、查询申请进度或登录您的账户。", "Register as a user of the website, follow your application, or sign in to your account."},
		"home.register.title": {"注册为用户", "Become a user"},
		"home.register.text":  {"阅读用户承诺书，填写真实、准确的身份信息后提交，工作人员当场审核。", "Read the user agreement, enter true and accurate identity data and submit; staff review it on the spot."},
		"home.follow.title":   {"查询申请进度", "Follow an application"},
		"home.follow.text":    {"凭申请编号和查询码查看审核进度，按要求补充资料。", "See the review's progress with the application number and follow code, and supply missing data."},
		"home.signin.title":   {"登录", "Sign in"},
		"home.signin.text":    {"用户以身份证号登录；工作人员以用户名登录。", "Users sign in with their ID number; staff with their username."},

		"error.title":      {"无法完成操作", "The action could not be completed"},
		"error.back":       {"返回", "Back"},
		"error.csrf":       {"表单已过期或来源不明，请返回页面重新提交。", "The form has expired or did not come from this site; go back and submit it again."},
		"error.unexpected": {"发生了意外错误，请稍后重试。", "Something unexpected happened; try again shortly."},
		"error.request_id": {"请求编号：", "Request ID:"},
		"error.signin":     {"请先登录。", "Sign in first."},

		"common.yes":      {"是", "yes"},
		"common.no":       {"否", "no"},
		"common.optional": {"（选填）", "(optional)"},
		"common.none":     {"无", "none"},
	})
}
