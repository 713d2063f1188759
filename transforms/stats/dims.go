package stats

// Dimensions of the statistics, in output order. The hit dimensions come
// first; entry/exit page and visit country are counted per visit.
const (
	DimPage = iota
	DimCountry
	DimStatus
	DimReferrer
	DimBrowser
	DimOS
	DimDevice
	DimHour
	DimWeekday
	DimSearch
	DimHost      // the site (virtual host)
	DimUTMSource // campaign parameters, as kept and scrubbed in the query
	DimUTMMedium
	DimUTMCampaign
	DimNotFound    // pages answered 404
	DimServerError // pages answered 5xx
	DimTraffic     // human, crawler, ai_crawler, bot, datacenter: every hit, people's and not
	DimCrawler     // the listed crawlers, by name
	DimEntryPage
	DimExitPage
	DimVisitCountry
	numDims
	numHitDims = DimEntryPage
)

var dimNames = [numDims]string{"page", "country", "status", "referrer", "browser", "os", "device", "hour", "weekday",
	"search", "host", "utm_source", "utm_medium", "utm_campaign", "not_found", "server_error", "traffic", "crawler",
	"entry_page", "exit_page", "visit_country"}

// DimensionNames lists every dimension a statistics row can have: total,
// the dimensions, privacy.
func DimensionNames() []string {
	return append(append([]string{"total"}, dimNames[:]...), "privacy")
}

// Other is the value of the row that holds folded and capped cells.
const Other = "(other)"

// floorDiv is a / b rounded down (event times before 1970 included).
func floorDiv(a, b int64) int64 {
	if q := a / b; a%b < 0 {
		return q - 1
	} else {
		return q
	}
}
