// Package statspage reads <prefix>.stats as any analytics consumer would
// (Read, for logveil stats) and serves it as the statistics page (Server:
// the page, /api/stats, /healthz), or writes the same page as one file
// (WriteReport, for logveil aggregate --output html). Values are set as
// text, never as markup.
package statspage
