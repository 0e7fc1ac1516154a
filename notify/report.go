package notify

// reportLines offer a notice's "this wasn't me" link (ReportURL), by
// template language.
var reportLines = map[string]string{
	LangEnglish:   `Not you? Report it here and we will lock your account at once:`,
	LangSpanish:   `¿No fue usted? Avísenos aquí y bloquearemos su cuenta de inmediato:`,
	LangHungarian: `Nem Ön volt? Jelezze itt, és azonnal zároljuk a fiókját:`,
	LangChinese:   `不是您本人？请在此报告，我们将立即锁定您的账户：`,
}

func reportLine(lang string) string {
	if l, ok := reportLines[lang]; ok {
		return l
	}
	return reportLines[LangEnglish]
}
