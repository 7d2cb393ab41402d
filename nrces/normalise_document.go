package nrces

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// document covers DocumentReference, Binary and Media. Media holding DICOM
// is imaging, the rest documents.
func (n *normaliser) document(e *Entry, r *inResource, path, label string) {
	e.Kind = KindDocument
	switch r.ResourceType {
	case "Binary":
		a := n.attachment(&inAttachment{ContentType: r.ContentType, Data: r.Data}, path)
		e.Attachments = append(e.Attachments, a)
		e.Text = firstNonEmpty(e.Section, "Binary") + " (" + firstNonEmpty(r.ContentType, "no content type") + ")"
		return
	case "Media":
		e.Codes = n.codes(r.Modality, path+".modality")
		for i, c := range r.Content {
			e.Attachments = append(e.Attachments, n.content(c, fmt.Sprintf("%s.content", path), i, len(r.Content)))
		}
		e.Text = firstNonEmpty(contentTitle(r.Content), label, conceptText(r.Modality), conceptText(r.Type), "Media")
		n.setTime(e, path, timeChoice{"createdDateTime", r.CreatedDateTime}, timeChoice{"createdPeriod", r.CreatedPeriod},
			timeChoice{"issued", r.Issued})
		for _, a := range e.Attachments {
			if isDICOM(a.ContentType) {
				e.Kind = KindImaging
				e.Imaging = &ImagingDetail{Modalities: conceptTexts(r.Modality)}
				break
			}
		}
		return
	}
	// DocumentReference
	e.Codes = n.codes(r.Type, path+".type")
	e.Status = firstNonEmpty(r.DocStatus, e.Status)
	for i, c := range r.Content {
		e.Attachments = append(e.Attachments, n.content(c, fmt.Sprintf("%s.content[%d]", path, i), -1, 0))
	}
	e.Text = firstNonEmpty(r.Description, conceptText(r.Type), contentTitle(r.Content), "Document")
	n.setTime(e, path, timeChoice{"date", r.Date})
	if e.Time.IsZero() {
		for _, a := range e.Attachments {
			if !a.Created.IsZero() {
				e.Time = a.Created
				break
			}
		}
	}
	if len(e.Attachments) == 0 {
		n.probs.add(severityWarning, "document-without-content", path+".content", "the DocumentReference has no attachment")
	}
}

// content reads a DocumentReference.content element ({attachment: …}) or
// Media.content (the attachment itself).
func (n *normaliser) content(c inContent, path string, i, count int) Attachment {
	if c.Attachment != nil {
		return n.attachment(c.Attachment, path+".attachment")
	}
	if count > 1 {
		path = fmt.Sprintf("%s[%d]", path, i)
	}
	return n.attachment(&c.inAttachment, path)
}

func contentTitle(cs inContents) string {
	for _, c := range cs {
		if c.Attachment != nil && c.Attachment.Title != "" {
			return c.Attachment.Title
		}
		if c.Title != "" {
			return c.Title
		}
	}
	return ""
}

// attachment converts an Attachment, reporting base64 repairs.
func (n *normaliser) attachment(a *inAttachment, path string) Attachment {
	d := n.base64(a.Data)
	out := Attachment{
		ContentType: strings.TrimSpace(a.ContentType),
		Title:       a.Title,
		Language:    a.Language,
		URL:         a.URL,
		Data:        d.data,
		Undecoded:   d.undecoded,
	}
	if a.Creation != "" {
		out.Created, _ = n.time(a.Creation, path+".creation")
	}
	dpath := path + ".data"
	switch {
	case d.bad != "":
		n.probs.add(severityWarning, "base64-invalid", dpath,
			fmt.Sprintf("attachment data is not base64 (%s); kept undecoded", d.bad))
	case a.Data.set && len(d.data) == 0 && out.URL == "":
		n.probs.add(severityWarning, "attachment-empty", dpath, "attachment data is empty")
	}
	if d.bad != "" {
		return out // no repair to report
	}
	if d.escaped {
		n.probs.fold(severityInfo, "base64-escaped-slash", "", dpath,
			`base64 had JSON-escaped slashes ("\/"); unescaped`)
	}
	if d.spaced {
		n.probs.fold(severityInfo, "base64-whitespace", "", dpath,
			"base64 had spaces or line breaks; removed")
	}
	if d.variant != "" {
		n.probs.fold(severityInfo, "base64-variant", d.variant, dpath,
			"base64 was "+d.variant+"; decoded anyway")
	}
	if len(out.Data) > 0 {
		out.Size = int64(len(out.Data))
	} else if a.Size != "" {
		out.Size, _ = strconv.ParseInt(string(a.Size), 10, 64)
	}
	if out.ContentType == "" && (len(out.Data) > 0 || out.URL != "") {
		n.probs.fold(severityWarning, "attachment-no-content-type", "", path+".contentType",
			"attachment has no contentType")
	}
	return out
}

// base64 decodes a base64Binary value, fetching it from the cut-out blobs
// when it was cut.
func (n *normaliser) base64(v inBase64) base64Value {
	switch {
	case !v.set:
		return base64Value{}
	case v.notString:
		return base64Value{bad: "not a JSON string", undecoded: string(v.raw)}
	case v.blob > 0 && v.blob <= len(n.blobs):
		return decodeBase64Value(n.blobs[v.blob-1])
	}
	return decodeBase64Value(v.raw)
}

func isDICOM(contentType string) bool {
	return strings.EqualFold(strings.TrimSpace(contentType), "application/dicom")
}

func (n *normaliser) imagingStudy(e *Entry, r *inResource, path string) {
	e.Kind = KindImaging
	d := &ImagingDetail{}
	for _, id := range r.Identifier {
		if id.System == "urn:dicom:uid" || strings.HasPrefix(string(id.Value), "urn:oid:") {
			d.StudyUID = strings.TrimPrefix(string(id.Value), "urn:oid:")
			break
		}
	}
	addModality := func(m string) {
		for _, have := range d.Modalities {
			if have == m {
				return
			}
		}
		d.Modalities = append(d.Modalities, m)
	}
	for _, m := range conceptTexts(r.Modality) {
		addModality(m)
	}
	for _, s := range r.Series {
		series := ImagingSeries{
			UID:         s.UID,
			Modality:    conceptText(s.Modality.list()),
			BodySite:    conceptText(s.BodySite.list()),
			Description: s.Description,
		}
		for _, in := range s.Instance {
			if in.UID != "" {
				series.InstanceUIDs = append(series.InstanceUIDs, in.UID)
			}
		}
		if series.Modality != "" {
			addModality(series.Modality)
		}
		d.Series = append(d.Series, series)
		for _, ep := range s.Endpoint {
			d.Endpoints = append(d.Endpoints, n.endpoint(&ep))
		}
	}
	for _, ep := range r.Endpoint {
		d.Endpoints = append(d.Endpoints, n.endpoint(&ep))
	}
	e.Imaging = d
	e.Codes = n.codes(r.Code, path+".procedureCode")
	e.Text = firstNonEmpty(r.Description, firstSeriesDescription(d.Series), "Imaging study")
	if d.StudyUID == "" && len(d.Series) == 0 {
		n.probs.add(severityWarning, "imaging-without-uid", path, "the ImagingStudy has neither a study UID nor series")
	}
	n.setTime(e, path, timeChoice{"started", r.Started})
}

func firstSeriesDescription(ss []ImagingSeries) string {
	for _, s := range ss {
		if s.Description != "" {
			return s.Description
		}
	}
	return ""
}

// endpoint shows an endpoint reference with the address of the Endpoint
// resource when the bundle holds it.
func (n *normaliser) endpoint(ref *inReference) string {
	label := refLabel(ref)
	node, ok := n.idx.resolve(ref.Reference)
	if !ok || node.res.ResourceType != "Endpoint" {
		return label
	}
	var addr string
	if err := json.Unmarshal(node.res.Address, &addr); err == nil && addr != "" {
		return addr
	}
	return label
}
