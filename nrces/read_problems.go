package nrces

// Problem severities.
const (
	severityInfo    = "info"
	severityWarning = "warning"
	severityError   = "error"
)

// problemList collects problems. Repeated findings (a projecteka.in system
// on every coding, a missing zone on every date) are folded into one
// Problem with a Count, so one bad habit does not bury the rest.
type problemList struct {
	list  []Problem
	index map[string]int
}

// add records a problem that is reported each time it happens.
func (p *problemList) add(severity, code, path, message string) {
	p.list = append(p.list, Problem{Severity: severity, Code: code, Path: path, Message: message})
}

// fold records a problem once per code and key; later occurrences only
// count. path is kept from the first.
func (p *problemList) fold(severity, code, key, path, message string) {
	k := code + "\x00" + key
	if i, ok := p.index[k]; ok {
		if p.list[i].Count == 0 {
			p.list[i].Count = 1
		}
		p.list[i].Count++
		return
	}
	if p.index == nil {
		p.index = make(map[string]int)
	}
	p.index[k] = len(p.list)
	p.add(severity, code, path, message)
}
