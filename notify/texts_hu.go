package notify

// Hungarian texts, addressed formally ("Ön") as in the source articles.
var textsHU = map[Kind]text{
	KindLoginCodeSMS: {
		subject: `SLS biztonsági kód`,
		body:    `SLS: az Ön biztonsági kódja {{.Code}}. Soha ne adja meg senkinek; az SLS munkatársai soha nem kérik el.`,
	},
	KindLoginCodeVoice: {
		subject: `SLS biztonsági kód`,
		body:    `Jó napot kívánunk, az SLS hívja Önt. Az Ön biztonsági kódja: {{digits .Code}}. Ezt a kódot soha ne adja meg senkinek.`,
	},
	KindPhoneVerifyCode: {
		subject: `Mobiltelefonszám megerősítése`,
		body:    `SLS: a mobiltelefonszám megerősítéséhez szükséges kód: {{.Code}}. Ha nem Ön kérte, hagyja figyelmen kívül ezt az üzenetet.`,
	},
	KindPasswordResetCode: {
		subject: `Kód az új jelszó beállításához`,
		body:    `SLS: új jelszavához a kód {{.Code}}, érvényes eddig: {{.Until}}. Senki sem fogja elkérni.`,
	},
	KindIBKeyActivationCode: {
		subject: `IB Key aktiváló kód`,
		body:    `SLS: az Ön IB Key aktiváló kódja {{.Code}}. Írja be az alkalmazás Felhasználó hozzáadása pontjánál. Soha ne adja meg senkinek.`,
	},
	KindTempPasscodeIssued: {
		subject: `Ideiglenes jelszó kiadása`,
		body: `Az Ügyfélszolgálat ideiglenes jelszót adott ki a(z) {{.Username}} felhasználónak: teljes hozzáférés {{.FullUntil}} időpontig, utána {{.PortalUntil}} időpontig csak az Ügyfélportál. ` +
			`Ha nem Ön kérte, azonnal jelezze nekünk.`,
	},
	KindDeviceActivated: {
		subject: `Új biztonsági eszköz aktiválva`,
		body:    `Felhasználójához {{.Time}} időpontban új biztonsági eszközt ({{device .Device}}) aktiváltak. Ha nem Ön volt, haladéktalanul vegye fel a kapcsolatot az Ügyfélszolgálattal.`,
	},
	KindNewLogin: {
		subject: `Új bejelentkezés a számlájára`,
		body:    `SLS: bejelentkezés új böngészőből, alkalmazásból vagy hálózatról: {{.Platform}}, hálózat: {{.Address}}, időpont: {{.Time}}. Ha nem Ön volt, váltson jelszót, és hívja az Ügyfélszolgálatot.`,
	},
	KindDeviceShipped: {
		subject: `Biztonsági eszközét feladtuk`,
		body:    `Biztonsági eszközét ({{device .Device}}) feladtuk, futárszolgálat: {{.Carrier}}, nyomonkövetési szám: {{.Tracking}}. Ha nem Ön igényelte, vegye fel a kapcsolatot az Ügyfélszolgálattal.`,
	},
	KindDeviceDelivered: {
		subject: `Biztonsági eszközét kézbesítették`,
		body: `Biztonsági eszközét ({{device .Device}}) kézbesítették. Biztonsági okokból a kézbesítés után három héttel automatikusan aktiválódik; korábban is aktiválhatja az Ügyfélportálon. ` +
			`Ha nem kapta meg, haladéktalanul hívja az Ügyfélszolgálatot.`,
	},
	KindAutoActivationComing: {
		subject: `Biztonsági eszköze hamarosan aktiválódik`,
		body:    `Biztonsági eszköze ({{device .Device}}) {{.Date}} napon automatikusan aktiválódik, ettől kezdve szüksége lesz rá a bejelentkezéshez. Ha az eszköz nincs Önnél, ezen időpont előtt vegye fel a kapcsolatot az Ügyfélszolgálattal.`,
	},
	KindDeviceAutoActivated: {
		subject: `Biztonsági eszköze automatikusan aktiválódott`,
		body:    `Biztonsági eszköze ({{device .Device}}) automatikusan aktiválódott, és mostantól szükséges a bejelentkezéshez. Ha az eszköz nincs Önnél, haladéktalanul vegye fel a kapcsolatot az Ügyfélszolgálattal.`,
	},
	KindPhoneNumberChanged: {
		subject: `Mobiltelefonszáma megváltozott`,
		body: `SLS-felhasználójának mobiltelefonszámát egy {{.NumberEnding}} végű számra módosították. Biztonsági okokból az SMS-kóddal történő bejelentkezés {{.Until}} időpontig szünetel. ` +
			`Ha nem Ön módosította, haladéktalanul vegye fel a kapcsolatot az Ügyfélszolgálattal.`,
	},
	KindPushDenied: {
		subject: `Elutasított bejelentkezési kérés`,
		body: `{{.Time}} időpontban elutasítottak egy IB Key eszközére küldött bejelentkezési kérést ({{.Platform}}, {{.Address}}). ` +
			`Ha nem Ön volt, jelszavát más is ismerheti: változtassa meg, és hívja az Ügyfélszolgálatot.`,
	},
	KindPushFlood: {
		subject: `Több jóvá nem hagyott bejelentkezési kérés`,
		body: `{{.Since}} óta {{.Count}} bejelentkezési kérés érkezett IB Key eszközére, amelyet nem hagytak jóvá. ` +
			`Ha nem Ön próbált bejelentkezni, ne hagyjon jóvá egyetlen kérést sem, változtassa meg jelszavát, és vegye fel a kapcsolatot az Ügyfélszolgálattal.`,
	},
	KindLoginRefusedIP: {
		subject: `Elutasított bejelentkezés: nem engedélyezett cím`,
		body:    `Elutasítottunk egy {{.Platform}} bejelentkezést a jelszavával a(z) {{.Address}} címről ({{.Time}}), mert nincs az IP-listáján. Ha nem Ön volt, változtasson jelszót, és hívja az ügyfélszolgálatot.`,
	},
	KindPasswordChanged: {
		subject: `Megváltozott a jelszava`,
		body:    `SLS-felhasználója jelszava megváltozott ({{.How}}): {{.Time}}. A többi munkamenete véget ért. Ha nem Ön volt, azonnal hívja az ügyfélszolgálatot.`,
	},
	KindPasswordGuessing: {
		subject: `Sok hibás jelszó a felhasználónevéhez`,
		body:    `{{.Count}} hibás jelszót próbáltak ki a felhasználónevéhez, ezért új böngészőkből és alkalmazásokból egy ideig nem lehet belépni. A korábban használtak működnek.`,
	},
	KindSecureMessageSummary: {
		subject: `Új biztonságos üzenet az Üzenetközpontban`,
		body: `Új biztonságos üzenete érkezett: „{{.Summary}}”. Biztonsági okokból maga az üzenet csak az Ügyfélportál Üzenetközpontjában olvasható. ` +
			`Jelentkezzen be az elolvasásához.`,
	},
	KindReturnReceived: {
		subject: `Visszaküldött biztonsági eszköze megérkezett`,
		body:    `Megkaptuk a visszaküldött biztonsági eszközét ({{device .Device}}). Köszönjük.`,
	},
	KindDepositReleased: {
		subject: `Eszközletétjét feloldottuk`,
		body:    `A biztonsági eszközéért ({{device .Device}}) zárolt {{.Amount}} összegű letétet feloldottuk.`,
	},
	KindDepositForfeited: {
		subject: `Eszközletétjét visszatartottuk`,
		body:    `A biztonsági eszközéért ({{device .Device}}) zárolt {{.Amount}} összegű letétet kártérítésként visszatartottuk (elveszett, ellopott, sérült vagy vissza nem küldött eszköz). Kérdés esetén hívja az Ügyfélszolgálatot.`,
	},
	KindTakeoverReported: {
		subject: `Bejelentése után zároltuk a fiókját`,
		body:    `{{.Time}}-kor jelezte, hogy egy változtatás vagy belépés nem Öntől jött. Felhasználóját zároltuk, munkamenetei véget értek, a kifizetések és változtatások leálltak. Hívja az ügyfélszolgálatot a feloldáshoz.`,
	},
	KindSecurityAlert: {
		subject: `Fiókátvételt jelentett {{.Username}} felhasználó`,
		body:    `{{.Username}} jelezte: "nem én voltam" ({{.Via}}, innen: {{.Network}}), {{.Time}}. Zárolva, munkamenetei véget értek. Nézze át az auditnaplót, és feloldás előtt hívja az ügyfelet.`,
	},
	KindBankingChanged: {
		subject: `Megváltoztak a banki adatai`,
		body:    `SLS: a kifizetések számlája erre változott: {{.Account}}, {{.Time}}. Ha nem Ön módosította, jelezze azonnal az alábbi hivatkozással, vagy hívja az ügyfélszolgálatot.`,
	},
}
