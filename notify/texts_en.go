package notify

// English texts; the fallback for every other language. Code messages stay
// within one 160-character GSM 7-bit SMS (3GPP TS 23.038).
var textsEN = map[Kind]text{
	KindLoginCodeSMS: {
		subject: `Your SLS security code`,
		body:    `SLS: your security code is {{.Code}}. Never share it with anyone. SLS staff will never ask you for it.`,
	},
	KindLoginCodeVoice: {
		subject: `Your SLS security code`,
		body:    `Hello, this is SLS. Your security code is: {{digits .Code}}. Never share this code with anyone.`,
	},
	KindPhoneVerifyCode: {
		subject: `Verify your mobile number`,
		body:    `SLS: your confirmation code to verify this mobile number is {{.Code}}. If you did not ask for it, ignore this message.`,
	},
	KindPasswordResetCode: {
		subject: `Your code to set a new password`,
		body:    `SLS: your code to set a new password is {{.Code}}, valid until {{.Until}}. Enter it on the password reset page. Client Services will never ask you for it.`,
	},
	KindIBKeyActivationCode: {
		subject: `Your IB Key activation code`,
		body:    `SLS: your IB Key activation code is {{.Code}}. Enter it in the app under Add User. Never share it; SLS will never ask you for it.`,
	},
	KindTempPasscodeIssued: {
		subject: `A temporary passcode was issued`,
		body: `Client Services issued a temporary passcode for user {{.Username}}: full access until {{.FullUntil}}, then the Client Portal only (to print an Online Security Code Card) until {{.PortalUntil}}. ` +
			`If you did not ask for it, contact us immediately.`,
	},
	KindDeviceActivated: {
		subject: `New security device activated`,
		body:    `A new security device ({{device .Device}}) was activated for your user on {{.Time}}. If this wasn't you, contact Client Services immediately.`,
	},
	KindNewLogin: {
		subject: `New login to your account`,
		body:    `SLS: login from a new browser, app or network: {{.Platform}}, network {{.Address}}, {{.Time}}. If this wasn't you, change your password and contact Client Services immediately.`,
	},
	KindDeviceShipped: {
		subject: `Your security device has been shipped`,
		body:    `Your security device ({{device .Device}}) has been shipped by {{.Carrier}}, tracking number {{.Tracking}}. If you did not order it, contact Client Services.`,
	},
	KindDeviceDelivered: {
		subject: `Your security device has been delivered`,
		body: `Your security device ({{device .Device}}) has been delivered. For your security it will activate by itself three weeks after delivery; you can also activate it now in the Client Portal. ` +
			`If you did not receive it, contact Client Services immediately.`,
	},
	KindAutoActivationComing: {
		subject: `Your security device will activate soon`,
		body:    `Your security device ({{device .Device}}) will be activated automatically on {{.Date}}. From then on you will need it to log in. If you do not have this device, contact Client Services before that date.`,
	},
	KindDeviceAutoActivated: {
		subject: `Your security device has been activated`,
		body:    `Your security device ({{device .Device}}) has been activated automatically and is now needed to log in. If you do not have this device, contact Client Services immediately.`,
	},
	KindPhoneNumberChanged: {
		subject: `Your mobile number was changed`,
		body: `The mobile number of your SLS user was changed to a number ending in {{.NumberEnding}}. For your security, login with SMS codes is suspended until {{.Until}}. ` +
			`If you did not make this change, contact Client Services immediately.`,
	},
	KindPushDenied: {
		subject: `Login request denied`,
		body: `A login request sent to your IB Key was denied on {{.Time}} ({{.Platform}}, {{.Address}}). ` +
			`If this wasn't you, someone else may know your password: change it and contact Client Services.`,
	},
	KindPushFlood: {
		subject: `Several login requests were not approved`,
		body: `{{.Count}} login requests sent to your IB Key since {{.Since}} were not approved. ` +
			`If this wasn't you, do not approve any request, change your password and contact Client Services.`,
	},
	KindLoginRefusedIP: {
		subject: `Login refused: address not on your list`,
		body: `A login to {{.Platform}} with your password came from {{.Address}} at {{.Time}}, which is not on your IP restriction list, and was refused. ` +
			`If this was you, add the address in the Client Portal. If not, someone knows your password: change it and contact Client Services.`,
	},
	KindPasswordChanged: {
		subject: `Your password was changed`,
		body:    `The password of your SLS user was {{.How}} on {{.Time}}. Your other sessions have ended. If you did not do this, contact Client Services immediately.`,
	},
	KindPasswordGuessing: {
		subject: `Many wrong passwords for your username`,
		body:    `{{.Count}} wrong passwords were tried for your username, so logins from browsers and apps you have not used before are held off for a while. The ones you logged in with before still work. If this was not you, consider changing your password.`,
	},
	KindSecureMessageSummary: {
		subject: `New secure message in your Message Center`,
		body: `You have a new secure message: "{{.Summary}}". For your security the message itself is only in the Message Center of the Client Portal. ` +
			`Log in to read it.`,
	},
	KindReturnReceived: {
		subject: `Your returned security device has arrived`,
		body:    `We have received your returned security device ({{device .Device}}). Thank you.`,
	},
	KindDepositReleased: {
		subject: `Your device deposit has been released`,
		body:    `The deposit of {{.Amount}} held for your security device ({{device .Device}}) has been released.`,
	},
	KindDepositForfeited: {
		subject: `Your device deposit has been kept`,
		body:    `The deposit of {{.Amount}} held for your security device ({{device .Device}}) has been kept as compensation, because the device was lost, stolen, damaged or not returned. If you believe this is wrong, contact Client Services.`,
	},
	KindTakeoverReported: {
		subject: `Your account is locked after your report`,
		body:    `You reported on {{.Time}} that a change or a login was not yours. Your user is locked and every session has ended; withdrawals and changes are stopped. Call Client Services to check your account and unlock it.`,
	},
	KindSecurityAlert: {
		subject: `Takeover reported by user {{.Username}}`,
		body:    `User {{.Username}} reported "this wasn't me" ({{.Via}}, from {{.Network}}) on {{.Time}}. The user is locked and their sessions have ended. Review the audit trail and contact the client before unlocking.`,
	},
	KindBankingChanged: {
		subject: `Your banking instructions were changed`,
		body:    `SLS: the account for your withdrawals was changed to {{.Account}} on {{.Time}}. If you did not make this change, report it at once with the link below or call Client Services.`,
	},
}
