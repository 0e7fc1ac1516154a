package portal

import (
	"context"
	"os"

	"github.com/dustin/go-humanize"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
)

// Documents is what the statements page reads: the statements, tax forms
// and reports delivered for the user's account (package delivery).
type Documents interface {
	Documents(ctx context.Context, userID string) ([]*sls.Document, error)
	OpenDocument(ctx context.Context, userID, id string) (*os.File, *sls.Document, error)
}

// statementsPage groups a user's documents by type.
type statementsPage struct {
	Groups        []documentGroup
	RetentionDays int
}

type documentGroup struct {
	Kind sls.DocumentKind
	Docs []documentRow
}

type documentRow struct {
	*sls.Document
	Size string
	PDF  bool
}

// statementsPage lists the user's documents. A closed account's
// statements-only session reaches it (SPEC §6: "view and print your
// activity statements and tax forms").
func (p *Portal) statementsPage(q *req) {
	docs, err := p.d.Documents.Documents(q.r.Context(), q.u.ID)
	if err != nil {
		q.fail(err)
		return
	}
	var page statementsPage
	for _, k := range sls.DocumentKinds {
		g := documentGroup{Kind: k}
		for _, d := range docs {
			if d.Kind == k {
				g.Docs = append(g.Docs, documentRow{Document: d, Size: humanize.IBytes(uint64(d.Bytes)),
					PDF: httpapi.DocumentContentType(d.File) == "application/pdf"})
			}
		}
		if len(g.Docs) > 0 {
			page.Groups = append(page.Groups, g)
		}
	}
	if len(docs) > 0 {
		page.RetentionDays = int(docs[0].PurgeAfter.Sub(docs[0].DeliveredAt).Hours() / 24)
	}
	q.render("statements", q.t("statements.title"), page)
}

// statementFile serves one of the user's documents; another user's id is
// not found.
func (p *Portal) statementFile(q *req) {
	f, d, err := p.d.Documents.OpenDocument(q.r.Context(), q.u.ID, q.r.PathValue("id"))
	if err != nil {
		if sls.ErrorCode(err) == sls.CodeNotFound {
			q.status = statusOf(err)
			q.render("error", q.t("err.not_found_title"), errorPage{Message: q.errText(err)})
			return
		}
		q.fail(err)
		return
	}
	defer f.Close()
	httpapi.ServeDocument(q.w, q.r, f, d)
}
