package notify

// Simplified Chinese texts, addressed with 您 as in the source articles.
var textsZH = map[Kind]text{
	KindLoginCodeSMS: {
		subject: `您的SLS安全码`,
		body:    `【SLS】您的安全码是{{.Code}}。请勿向任何人透露，SLS工作人员绝不会向您索取。`,
	},
	KindLoginCodeVoice: {
		subject: `您的SLS安全码`,
		body:    `您好，这里是SLS。您的安全码是：{{digits .Code}}。请勿向任何人透露此安全码。`,
	},
	KindPhoneVerifyCode: {
		subject: `验证您的手机号码`,
		body:    `【SLS】您用于验证此手机号码的确认码是{{.Code}}。如果这不是您本人的操作，请忽略此消息。`,
	},
	KindPasswordResetCode: {
		subject: `设置新密码的验证码`,
		body:    `SLS：您设置新密码的验证码是 {{.Code}}，有效期至 {{.Until}}。请在密码重置页面输入。客户服务部绝不会向您索要此验证码。`,
	},
	KindIBKeyActivationCode: {
		subject: `您的IB Key激活码`,
		body:    `【SLS】您的IB Key激活码是{{.Code}}。请在应用程序的“添加使用者”中输入。请勿向任何人透露，SLS绝不会向您索取。`,
	},
	KindTempPasscodeIssued: {
		subject: `已为您签发临时密码`,
		body: `客户服务部已为用户{{.Username}}签发临时密码。{{.FullUntil}}之前可完全访问；此后至{{.PortalUntil}}仅可访问客户端，用于打印在线安全码卡。` +
			`如果这不是您本人申请的，请立即联系我们。`,
	},
	KindDeviceActivated: {
		subject: `新的安全设备已激活`,
		body:    `您的用户已于{{.Time}}激活了新的安全设备（{{device .Device}}）。如果这不是您本人的操作，请立即联系客户服务部。`,
	},
	KindNewLogin: {
		subject: `您的账户有新的登录`,
		body:    `【SLS】您的账户从新的浏览器、应用或网络登录：{{.Platform}}，网络{{.Address}}，时间{{.Time}}。如果这不是您本人的操作，请立即更改密码并联系客户服务部。`,
	},
	KindDeviceShipped: {
		subject: `您的安全设备已发货`,
		body:    `您的安全设备（{{device .Device}}）已由{{.Carrier}}发出，运单号{{.Tracking}}。如果您没有申请该设备，请联系客户服务部。`,
	},
	KindDeviceDelivered: {
		subject: `您的安全设备已送达`,
		body: `您的安全设备（{{device .Device}}）已送达。为了您的安全，该设备将在送达三周后自动激活；您也可以现在在客户端中激活。` +
			`如果您没有收到该设备，请立即联系客户服务部。`,
	},
	KindAutoActivationComing: {
		subject: `您的安全设备即将自动激活`,
		body:    `您的安全设备（{{device .Device}}）将于{{.Date}}自动激活，此后登录时需要使用该设备。如果您没有该设备，请在此日期之前联系客户服务部。`,
	},
	KindDeviceAutoActivated: {
		subject: `您的安全设备已自动激活`,
		body:    `您的安全设备（{{device .Device}}）已自动激活，现在登录时需要使用该设备。如果您没有该设备，请立即联系客户服务部。`,
	},
	KindPhoneNumberChanged: {
		subject: `您的手机号码已更改`,
		body: `您的SLS用户的手机号码已更改为尾号{{.NumberEnding}}的号码。为了您的安全，短信验证码登录将暂停至{{.Until}}。` +
			`如果这不是您本人的操作，请立即联系客户服务部。`,
	},
	KindPushDenied: {
		subject: `登录请求已被拒绝`,
		body: `{{.Time}}发送到您的IB Key的一个登录请求已被拒绝（{{.Platform}}，{{.Address}}）。` +
			`如果这不是您本人的操作，他人可能已知道您的密码：请更改密码并联系客户服务部。`,
	},
	KindPushFlood: {
		subject: `多个登录请求未获批准`,
		body: `自{{.Since}}以来，共有{{.Count}}个发送到您的IB Key的登录请求未获批准。` +
			`如果这不是您本人的操作，请不要批准任何请求，立即更改密码并联系客户服务部。`,
	},
	KindLoginRefusedIP: {
		subject: `登录被拒绝：地址不在您的列表中`,
		body: `{{.Time}}，有人使用您的密码从 {{.Address}} 登录 {{.Platform}}，该地址不在您的 IP 限制列表中，登录已被拒绝。` +
			`如果是您本人，请在客户门户中添加该地址。如果不是，说明有人知道您的密码：请更改密码并联系客户服务部。`,
	},
	KindPasswordChanged: {
		subject: `您的密码已更改`,
		body:    `您的 SLS 用户密码已于 {{.Time}} 更改（{{.How}}）。您的其他会话已结束。如果不是您本人操作，请立即联系客户服务部。`,
	},
	KindPasswordGuessing: {
		subject: `您的用户名出现多次错误密码`,
		body:    `有人为您的用户名尝试了 {{.Count}} 次错误密码，因此来自您从未使用过的浏览器和应用程序的登录将暂缓一段时间。您以前登录过的仍可正常使用。如果不是您本人，请考虑更改密码。`,
	},
	KindSecureMessageSummary: {
		subject: `您的消息中心有一条新的安全消息`,
		body:    `您有一条新的安全消息：“{{.Summary}}”。为了您的安全，消息正文仅可在客户端的消息中心查看。请登录阅读。`,
	},
	KindReturnReceived: {
		subject: `我们已收到您退回的安全设备`,
		body:    `我们已收到您退回的安全设备（{{device .Device}}）。谢谢。`,
	},
	KindDepositReleased: {
		subject: `您的设备押金已释放`,
		body:    `为您的安全设备（{{device .Device}}）冻结的 {{.Amount}} 押金已释放。`,
	},
	KindDepositForfeited: {
		subject: `您的设备押金已被扣留`,
		body:    `由于设备丢失、被盗、损坏或未退回，为您的安全设备（{{device .Device}}）冻结的 {{.Amount}} 押金已作为补偿扣留。如您认为有误，请联系客户服务部。`,
	},
	KindTakeoverReported: {
		subject: `根据您的报告，您的账户已被锁定`,
		body:    `您于 {{.Time}} 报告某项更改或登录并非您本人所为。您的用户已被锁定，所有会话均已结束；提款和更改已停止。请致电客户服务部核查并解锁您的账户。`,
	},
	KindSecurityAlert: {
		subject: `用户 {{.Username}} 报告账户被盗用`,
		body:    `用户 {{.Username}} 于 {{.Time}} 报告"不是我本人"（{{.Via}}，来自 {{.Network}}）。该用户已被锁定，其会话已结束。解锁前请查看审计记录并联系客户。`,
	},
	KindBankingChanged: {
		subject: `您的银行指令已更改`,
		body:    `【SLS】您的提款账户已于 {{.Time}} 更改为 {{.Account}}。如果不是您本人所为，请立即使用下方链接报告或致电客户服务部。`,
	},
}
