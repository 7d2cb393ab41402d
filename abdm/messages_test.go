package abdm_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sangamhealth/sangam/abdm"
)

// Contract tests: each message, built as Go values, must encode to the
// payload the reference (abdm-v3.md) shows, and the reference payload must
// decode into the type and encode back unchanged. The expected JSON is the
// reference's example with its "…" placeholders filled in.

func ts(s string) abdm.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return abdm.NewTime(t)
}

func str(s string) *string { return &s }

const (
	txnID     = "f901b782-bfdf-4224-9f8d-da2cadc20c0d"
	consentID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
	crID      = "e3c74829-3f82-4f94-959e-e10f57bcd57b"
	hiTxnID   = "a2f0c3de-6b1a-4c4f-9d59-2f3c4b5a6d7e"
)

var (
	purposeCareMgt = abdm.Purpose{Text: "Care Management", Code: "CAREMGT", RefURI: "http://terminology.hl7.org/ValueSet/v3-PurposeOfUse"}
	requesterDrA   = abdm.Requester{Name: "Dr. A", Identifier: &abdm.RequesterIdentifier{Type: "REGNO", Value: "MH1001", System: "https://www.mciindia.org"}}
	visitRef       = abdm.CareContextRef{PatientReference: "PAT-001", CareContextReference: "VISIT-2024-001"}
	opdGroup       = abdm.PatientCareContexts{ReferenceNumber: "PAT-001", Display: "Full Name",
		CareContexts: []abdm.CareContext{{ReferenceNumber: "VISIT-2024-001", Display: "OPD 10-Jan-2024"}},
		HIType:       abdm.HITypeOPConsultation, Count: 1}
	keyMaterial = abdm.KeyMaterial{CryptoAlg: "ECDH", Curve: "Curve25519",
		DHPublicKey: abdm.DHPublicKey{Expiry: ts("2024-06-01T00:00:00.000Z"), Parameters: "Curve25519/32byte random key", KeyValue: "BFN7KTdOkw=="},
		Nonce:       "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="}
	permission = abdm.Permission{AccessMode: "VIEW",
		DateRange:   abdm.DateRange{From: ts("2023-01-01T00:00:00.000Z"), To: ts("2024-05-01T00:00:00.000Z")},
		DataEraseAt: ts("2024-06-01T00:00:00.000Z"),
		Frequency:   abdm.Frequency{Unit: "HOUR", Value: 1, Repeats: 0}}
)

const keyMaterialJSON = `{ "cryptoAlg": "ECDH", "curve": "Curve25519",
  "dhPublicKey": { "expiry": "2024-06-01T00:00:00.000Z", "parameters": "Curve25519/32byte random key", "keyValue": "BFN7KTdOkw==" },
  "nonce": "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=" }`

var contractCases = []struct {
	name  string // reference section and message
	value any
	want  string
}{
	// §1.2, §1.6 gateway housekeeping
	{"1.2 sessions request",
		abdm.SessionRequest{ClientID: "SBX_000123", ClientSecret: "<secret>", GrantType: "client_credentials"},
		`{ "clientId": "SBX_000123", "clientSecret": "<secret>", "grantType": "client_credentials" }`},
	{"1.2 sessions response",
		abdm.Session{AccessToken: "eyJ.a.b", ExpiresIn: 1200, RefreshExpiresIn: 1800, RefreshToken: "eyJ.c.d", TokenType: "bearer"},
		`{"accessToken":"eyJ.a.b","expiresIn":1200,"refreshExpiresIn":1800,"refreshToken":"eyJ.c.d","tokenType":"bearer"}`},
	{"1.6 bridge url", abdm.BridgeURLRequest{URL: "https://your-public-host"}, `{"url": "https://your-public-host"}`},
	{"1.6 bridge-services",
		abdm.BridgeServices{
			Bridge: abdm.Bridge{ID: "SBX_000123", Name: "Sangam", URL: "https://sangam.example/bridge/acme", Active: true, Blocklisted: false},
			Services: []abdm.BridgeServiceInfo{{ID: "IN2810014366", Name: "ABC Hospital", Types: []string{"HIP", "HIU"},
				Endpoints: json.RawMessage(`{}`), Active: true}},
		},
		`{"bridge":{"id":"SBX_000123","name":"Sangam","url":"https://sangam.example/bridge/acme","active":true,"blocklisted":false},
		  "services":[{"id":"IN2810014366","name":"ABC Hospital","types":["HIP","HIU"],"endpoints":{},"active":true}]}`},
	{"1.6 bridge-service by id",
		abdm.BridgeService{ID: "42", BridgeID: "SBX_000123", ServiceID: "IN2810014366", Name: "ABC Hospital", IsHIP: true,
			Active: true, RegisterTime: "2026-09-16T10:00:00.000Z", DateCreated: "2026-09-16T10:00:00.000Z", DateModified: "2026-09-16T10:00:00.000Z"},
		`{"id":"42","bridgeId":"SBX_000123","serviceId":"IN2810014366","name":"ABC Hospital","isHip":true,"isHiu":false,
		  "isHealthLocker":false,"isPhr":false,"active":true,"registerTime":"2026-09-16T10:00:00.000Z",
		  "dateCreated":"2026-09-16T10:00:00.000Z","dateModified":"2026-09-16T10:00:00.000Z"}`},

	// §2.5 scan & share
	{"2.5 share (inbound)",
		abdm.PatientShareRequest{Intent: "PROFILE_SHARE",
			MetaData: abdm.ShareMetaData{HIPID: "IN2810014366", Context: "OPD1", HPRID: nil, Latitude: "12.97", Longitude: "77.71"},
			Profile: abdm.ShareProfile{Patient: abdm.SharePatient{ABHANumber: nil, ABHAAddress: "someone@sbx", Name: "Full Name", Gender: "M",
				DayOfBirth: "6", MonthOfBirth: "6", YearOfBirth: "2000",
				Address:     &abdm.ShareAddress{Line: "12 MG Road", District: "Bengaluru Urban", State: "Karnataka", Pincode: "560001"},
				PhoneNumber: "9876543210"}}},
		`{ "intent": "PROFILE_SHARE",
		  "metaData": { "hipId": "IN2810014366", "context": "OPD1", "hprId": null, "latitude": "12.97", "longitude": "77.71" },
		  "profile": { "patient": {
		      "abhaNumber": null,
		      "abhaAddress": "someone@sbx",
		      "name": "Full Name", "gender": "M",
		      "dayOfBirth": "6", "monthOfBirth": "6", "yearOfBirth": "2000",
		      "address": { "line": "12 MG Road", "district": "Bengaluru Urban", "state": "Karnataka", "pincode": "560001" },
		      "phoneNumber": "9876543210" } } }`},
	{"2.5 on-share",
		abdm.PatientOnShareRequest{
			Acknowledgement: abdm.ShareAcknowledgement{Status: "SUCCESS", ABHAAddress: "someone@sbx",
				Profile: &abdm.ShareTokenProfile{Context: "OPD1", TokenNumber: "1", Expiry: "1799"}},
			Response: abdm.ResponseRef{RequestID: "5f7a535d-a3fd-416b-b069-c97d021fbacd"}},
		`{ "acknowledgement": { "status": "SUCCESS", "abhaAddress": "someone@sbx",
		                       "profile": { "context": "OPD1", "tokenNumber": "1", "expiry": "1799" } },
		  "response": { "requestId": "5f7a535d-a3fd-416b-b069-c97d021fbacd" } }`},
	{"2.5 on-share failure",
		abdm.PatientOnShareRequest{
			Acknowledgement: abdm.ShareAcknowledgement{Status: "FAILED", ABHAAddress: "someone@sbx"},
			Error:           &abdm.ErrorDetail{Code: "ABDM-9999", Message: "Counter closed"},
			Response:        abdm.ResponseRef{RequestID: "5f7a535d-a3fd-416b-b069-c97d021fbacd"}},
		`{"acknowledgement":{"status":"FAILED","abhaAddress":"someone@sbx"}, "error":{"code":"ABDM-9999","message":"Counter closed"},
		  "response":{"requestId":"5f7a535d-a3fd-416b-b069-c97d021fbacd"}}`},

	// §2.6 HIP-initiated linking
	{"2.6a generate-token",
		abdm.GenerateTokenRequest{ABHANumber: ptr(abdm.NumericID("91123456789012")), ABHAAddress: "someone@sbx", Name: "Full Name", Gender: "M", YearOfBirth: 1990},
		`{ "abhaNumber": 91123456789012, "abhaAddress": "someone@sbx", "name": "Full Name", "gender": "M", "yearOfBirth": 1990 }`},
	{"2.6a generate-token without ABHA number",
		abdm.GenerateTokenRequest{ABHAAddress: "someone@sbx", Name: "Full Name", Gender: "F", YearOfBirth: 1990},
		`{ "abhaNumber": null, "abhaAddress": "someone@sbx", "name": "Full Name", "gender": "F", "yearOfBirth": 1990 }`},
	{"2.6a on-generate-token",
		abdm.OnGenerateTokenRequest{ABHAAddress: "someone@sbx", LinkToken: "eyJhbGciOiJSUzUxMiJ9.e30.sig", Response: abdm.ResponseRef{RequestID: "R1"}},
		`{ "abhaAddress": "someone@sbx", "linkToken": "eyJhbGciOiJSUzUxMiJ9.e30.sig", "response": { "requestId": "R1" } }`},
	{"2.6a on-generate-token error",
		abdm.OnGenerateTokenRequest{Error: &abdm.ErrorDetail{Code: "ABDM-1051", Message: "Invalid ABHA Number or ABHA Address"}, Response: abdm.ResponseRef{RequestID: "R1"}},
		`{ "error": { "code": "ABDM-1051", "message": "Invalid ABHA Number or ABHA Address" }, "response": { "requestId": "R1" } }`},
	{"2.6b link carecontext",
		abdm.LinkCareContextRequest{ABHANumber: "91123456789012", ABHAAddress: "someone@sbx", Patient: []abdm.PatientCareContexts{
			abdm.NewPatientCareContexts("PAT-001", "Full Name", abdm.HITypeOPConsultation, abdm.CareContext{ReferenceNumber: "VISIT-2024-001", Display: "OPD 10-Jan-2024"}),
			abdm.NewPatientCareContexts("PAT-001", "Full Name", abdm.HITypeDiagnosticReport, abdm.CareContext{ReferenceNumber: "LAB-2024-001", Display: "CBC 10-Jan-2024"}),
		}},
		`{ "abhaNumber": "91123456789012",
		  "abhaAddress": "someone@sbx",
		  "patient": [
		    { "referenceNumber": "PAT-001", "display": "Full Name",
		      "careContexts": [ { "referenceNumber": "VISIT-2024-001", "display": "OPD 10-Jan-2024" } ],
		      "hiType": "OPConsultation", "count": 1 },
		    { "referenceNumber": "PAT-001", "display": "Full Name",
		      "careContexts": [ { "referenceNumber": "LAB-2024-001", "display": "CBC 10-Jan-2024" } ],
		      "hiType": "DiagnosticReport", "count": 1 } ] }`},
	{"2.6b on_carecontext",
		abdm.OnCareContextRequest{ABHAAddress: "someone@sbx", Status: "Successfully Linked care context", Response: abdm.ResponseRef{RequestID: "R2"}},
		`{ "abhaAddress": "someone@sbx", "status": "Successfully Linked care context", "response": { "requestId": "R2" } }`},
	{"2.6b on_carecontext error",
		abdm.OnCareContextRequest{ABHAAddress: "someone@sbx", Error: &abdm.ErrorDetail{Code: "ABDM-1038", Message: "ABHA address and Link token mismatch"}, Response: abdm.ResponseRef{RequestID: "R2"}},
		`{ "abhaAddress": "someone@sbx", "error": { "code": "ABDM-1038", "message": "ABHA address and Link token mismatch" }, "response": { "requestId": "R2" } }`},
	{"2.6c context notify",
		abdm.ContextNotifyRequest{Notification: abdm.ContextNotification{Patient: abdm.Ref{ID: "someone@sbx"}, CareContext: visitRef,
			HITypes: []abdm.HIType{abdm.HITypeOPConsultation}, Date: ts("2024-05-09T10:34:00.387Z"), HIP: abdm.Ref{ID: "IN2810014366"}}},
		`{ "notification": {
		    "patient": { "id": "someone@sbx" },
		    "careContext": { "patientReference": "PAT-001", "careContextReference": "VISIT-2024-001" },
		    "hiTypes": ["OPConsultation"],
		    "date": "2024-05-09T10:34:00.387Z",
		    "hip": { "id": "IN2810014366" } } }`},
	{"2.6c context on-notify",
		abdm.ContextOnNotifyRequest{Acknowledgement: &abdm.Acknowledgement{Status: "ERRORED"},
			Error: &abdm.ErrorDetail{Code: "ABDM-1006", Message: "No care context linked with given reference number"}, Response: abdm.ResponseRef{RequestID: "R3"}},
		`{"acknowledgement":{"status":"ERRORED"},"error":{"code":"ABDM-1006","message":"No care context linked with given reference number"},"response":{"requestId":"R3"}}`},
	{"2.6d sms notify2",
		abdm.SMSNotifyRequest{Notification: abdm.SMSNotification{PhoneNo: "9876543210", HIP: abdm.Party{ID: "IN2810014366", Name: "ABC Hospital"}}},
		`{"notification":{"phoneNo":"9876543210","hip":{"id":"IN2810014366","name":"ABC Hospital"}}}`},
	{"2.6d sms on-notify",
		abdm.SMSOnNotifyRequest{Acknowledgement: &abdm.Acknowledgement{Status: "SUCCESS"}, Response: abdm.ResponseRef{RequestID: "R4"}},
		`{"acknowledgement":{"status":"SUCCESS"},"response":{"requestId":"R4"}}`},

	// §3.1 discovery
	{"3.1 discover (inbound)",
		abdm.DiscoverRequest{TransactionID: txnID, Patient: abdm.DiscoverPatient{ID: "someone@sbx", Name: "Full Name", Gender: "M", YearOfBirth: 1990,
			VerifiedIdentifiers:   []abdm.Identifier{{Type: "MOBILE", Value: "+919876543210"}, {Type: "ABHA_NUMBER", Value: "91-1234-5678-9012"}},
			UnverifiedIdentifiers: []abdm.Identifier{{Type: "MR", Value: "PAT-001"}}}},
		`{ "transactionId": "f901b782-bfdf-4224-9f8d-da2cadc20c0d",
		  "patient": {
		    "id": "someone@sbx",
		    "name": "Full Name", "gender": "M", "yearOfBirth": 1990,
		    "verifiedIdentifiers":   [ { "type": "MOBILE", "value": "+919876543210" }, { "type": "ABHA_NUMBER", "value": "91-1234-5678-9012" } ],
		    "unverifiedIdentifiers": [ { "type": "MR", "value": "PAT-001" } ] } }`},
	{"3.1 on-discover",
		abdm.OnDiscoverRequest{TransactionID: txnID, Patient: []abdm.PatientCareContexts{opdGroup},
			MatchedBy: []abdm.IdentifierType{abdm.IdentifierABHAAddress}, Response: abdm.ResponseRef{RequestID: "R"}},
		`{ "transactionId": "f901b782-bfdf-4224-9f8d-da2cadc20c0d",
		  "patient": [
		    { "referenceNumber": "PAT-001", "display": "Full Name",
		      "careContexts": [ { "referenceNumber": "VISIT-2024-001", "display": "OPD 10-Jan-2024" } ],
		      "hiType": "OPConsultation", "count": 1 } ],
		  "matchedBy": ["ABHA_ADDRESS"],
		  "response": { "requestId": "R" } }`},
	{"3.1 on-discover not found",
		abdm.OnDiscoverRequest{TransactionID: txnID, Error: &abdm.ErrorDetail{Code: "ABDM-1010", Message: "Patient not found"}, Response: abdm.ResponseRef{RequestID: "R"}},
		`{ "transactionId": "f901b782-bfdf-4224-9f8d-da2cadc20c0d", "error": { "code": "ABDM-1010", "message": "Patient not found" }, "response": { "requestId": "R" } }`},

	// §3.2 link init / confirm
	{"3.2 link init (inbound)",
		abdm.LinkInitRequest{TransactionID: txnID, ABHAAddress: "someone@sbx", Patient: []abdm.PatientCareContexts{{ReferenceNumber: "PAT-001",
			CareContexts: []abdm.CareContext{{ReferenceNumber: "VISIT-2024-001"}}, HIType: abdm.HITypeOPConsultation, Count: 1}}},
		`{ "transactionId": "f901b782-bfdf-4224-9f8d-da2cadc20c0d", "abhaAddress": "someone@sbx",
		  "patient": [ { "referenceNumber": "PAT-001",
		                 "careContexts": [ { "referenceNumber": "VISIT-2024-001" } ],
		                 "hiType": "OPConsultation", "count": 1 } ] }`},
	{"3.2 link on-init",
		abdm.LinkOnInitRequest{TransactionID: txnID, Link: &abdm.LinkReference{ReferenceNumber: "d353b782-bfdf-4224-9f8d-da2cadc20c0d", AuthenticationType: "DIRECT",
			Meta: &abdm.LinkMeta{CommunicationMedium: "MOBILE", CommunicationHint: "OTP", CommunicationExpiry: ts("2024-05-01T05:22:34.123Z")}},
			Response: abdm.ResponseRef{RequestID: "0d9ac1a0-5c4e-4d71-9a33-0c1f1b1e8f00"}},
		`{ "transactionId": "f901b782-bfdf-4224-9f8d-da2cadc20c0d",
		  "link": { "referenceNumber": "d353b782-bfdf-4224-9f8d-da2cadc20c0d",
		            "authenticationType": "DIRECT",
		            "meta": { "communicationMedium": "MOBILE", "communicationHint": "OTP", "communicationExpiry": "2024-05-01T05:22:34.123Z" } },
		  "response": { "requestId": "0d9ac1a0-5c4e-4d71-9a33-0c1f1b1e8f00" } }`},
	{"3.2 link confirm (inbound)",
		abdm.LinkConfirmRequest{Confirmation: abdm.LinkConfirmation{LinkRefNumber: "d353b782-bfdf-4224-9f8d-da2cadc20c0d", Token: "123456"}},
		`{ "confirmation": { "linkRefNumber": "d353b782-bfdf-4224-9f8d-da2cadc20c0d", "token": "123456" } }`},
	{"3.2 link on-confirm",
		abdm.LinkOnConfirmRequest{Patient: []abdm.PatientCareContexts{opdGroup}, Response: abdm.ResponseRef{RequestID: "C1"}},
		`{ "patient": [ { "referenceNumber": "PAT-001", "display": "Full Name",
		                 "careContexts": [ { "referenceNumber": "VISIT-2024-001", "display": "OPD 10-Jan-2024" } ],
		                 "hiType": "OPConsultation", "count": 1 } ],
		  "response": { "requestId": "C1" } }`},
	{"3.2 link on-confirm wrong otp",
		abdm.LinkOnConfirmRequest{Error: &abdm.ErrorDetail{Code: "ABDM-9999", Message: "Incorrect OTP"}, Response: abdm.ResponseRef{RequestID: "C1"}},
		`{ "error": { "code": "ABDM-9999", "message": "Incorrect OTP" }, "response": { "requestId": "C1" } }`},

	// §3.3 consent notify to HIP
	{"3.3 hip consent notify (inbound)",
		abdm.HIPConsentNotifyRequest{Notification: abdm.HIPConsentNotification{Status: abdm.ConsentGranted, ConsentID: consentID,
			ConsentDetail: &abdm.ConsentDetail{SchemaVersion: "v3", ConsentID: consentID, CreatedAt: ts("2024-05-01T05:10:20.123Z"),
				Patient: abdm.Ref{ID: "someone@sbx"}, CareContexts: []abdm.CareContextRef{visitRef}, Purpose: purposeCareMgt,
				HIP: &abdm.Party{ID: "IN2810014366", Name: "ABC Hospital"}, HIU: abdm.Party{ID: "IN2910000123", Name: "XYZ Clinic"},
				ConsentManager: abdm.Ref{ID: "sbx"}, Requester: requesterDrA, HITypes: []abdm.HIType{abdm.HITypeOPConsultation},
				Permission: permission},
			Signature: "c2lnbmF0dXJl", GrantAcknowledgement: false}},
		`{ "notification": {
		    "status": "GRANTED",
		    "consentId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
		    "consentDetail": {
		      "schemaVersion": "v3",
		      "consentId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
		      "createdAt": "2024-05-01T05:10:20.123Z",
		      "patient": { "id": "someone@sbx" },
		      "careContexts": [ { "patientReference": "PAT-001", "careContextReference": "VISIT-2024-001" } ],
		      "purpose": { "text": "Care Management", "code": "CAREMGT", "refUri": "http://terminology.hl7.org/ValueSet/v3-PurposeOfUse" },
		      "hip": { "id": "IN2810014366", "name": "ABC Hospital" },
		      "hiu": { "id": "IN2910000123", "name": "XYZ Clinic" },
		      "consentManager": { "id": "sbx" },
		      "requester": { "name": "Dr. A", "identifier": { "type": "REGNO", "value": "MH1001", "system": "https://www.mciindia.org" } },
		      "hiTypes": ["OPConsultation"],
		      "permission": {
		        "accessMode": "VIEW",
		        "dateRange": { "from": "2023-01-01T00:00:00.000Z", "to": "2024-05-01T00:00:00.000Z" },
		        "dataEraseAt": "2024-06-01T00:00:00.000Z",
		        "frequency": { "unit": "HOUR", "value": 1, "repeats": 0 } } },
		    "signature": "c2lnbmF0dXJl",
		    "grantAcknowledgement": false } }`},
	{"3.3 hip consent on-notify",
		abdm.HIPConsentOnNotifyRequest{Acknowledgement: abdm.HIPConsentAck{Status: "OK", ConsentID: consentID}, Response: abdm.ResponseRef{RequestID: "N1"}},
		`{ "acknowledgement": { "status": "OK", "consentId": "3fa85f64-5717-4562-b3fc-2c963f66afa6" }, "response": { "requestId": "N1" } }`},

	// §3.4 HI request to HIP
	{"3.4 hip health-information request (inbound)",
		abdm.HIPHealthInformationRequest{TransactionID: hiTxnID, HIRequest: abdm.HIRequest{Consent: abdm.Ref{ID: consentID},
			DateRange:   abdm.DateRange{From: ts("2023-01-01T00:00:00.000Z"), To: ts("2024-05-01T00:00:00.000Z")},
			DataPushURL: "https://hiu.example/api/v3/hiu/data/push/" + consentID, KeyMaterial: keyMaterial}},
		`{ "requestId": "", "timestamp": "",
		  "transactionId": "a2f0c3de-6b1a-4c4f-9d59-2f3c4b5a6d7e",
		  "hiRequest": {
		    "consent": { "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6" },
		    "dateRange": { "from": "2023-01-01T00:00:00.000Z", "to": "2024-05-01T00:00:00.000Z" },
		    "dataPushUrl": "https://hiu.example/api/v3/hiu/data/push/3fa85f64-5717-4562-b3fc-2c963f66afa6",
		    "keyMaterial": ` + keyMaterialJSON + ` } }`},
	{"3.4 hip health-information on-request",
		abdm.HealthInformationOnRequest{HIRequest: &abdm.HIRequestAck{TransactionID: hiTxnID, SessionStatus: "ACKNOWLEDGED"}, Response: abdm.ResponseRef{RequestID: "H1"}},
		`{ "hiRequest": { "transactionId": "a2f0c3de-6b1a-4c4f-9d59-2f3c4b5a6d7e", "sessionStatus": "ACKNOWLEDGED" }, "response": { "requestId": "H1" } }`},
	{"3.4 hip health-information on-request error",
		abdm.HealthInformationOnRequest{Error: &abdm.ErrorDetail{Code: "ABDM-1112", Message: "Consent artefact invalid or expired"}, Response: abdm.ResponseRef{RequestID: "H1"}},
		`{ "error": { "code": "ABDM-1112", "message": "Consent artefact invalid or expired" }, "response": { "requestId": "H1" } }`},

	// §3.5 data push
	{"3.5 data push",
		abdm.DataPushRequest{PageNumber: 1, PageCount: 1, TransactionID: hiTxnID,
			Entries:     []abdm.DataEntry{{Content: "Y2lwaGVydGV4dA==", Media: "application/fhir+json", Checksum: "9e107d9d372bb6826bd81d3542a419d6", CareContextReference: "VISIT-2024-001"}},
			KeyMaterial: keyMaterial},
		`{ "pageNumber": 1, "pageCount": 1,
		  "transactionId": "a2f0c3de-6b1a-4c4f-9d59-2f3c4b5a6d7e",
		  "entries": [
		    { "content": "Y2lwaGVydGV4dA==",
		      "media": "application/fhir+json",
		      "checksum": "9e107d9d372bb6826bd81d3542a419d6",
		      "careContextReference": "VISIT-2024-001" } ],
		  "keyMaterial": ` + keyMaterialJSON + ` }`},
	{"3.5 data push with link and empty checksum",
		abdm.DataPushRequest{PageNumber: 0, PageCount: 2, TransactionID: hiTxnID,
			Entries:     []abdm.DataEntry{{Link: "https://hip.example/files/1", Media: "application/fhir+json", Checksum: "", CareContextReference: "VISIT-2024-001"}},
			KeyMaterial: keyMaterial},
		`{"pageNumber":0,"pageCount":2,"transactionId":"a2f0c3de-6b1a-4c4f-9d59-2f3c4b5a6d7e",
		  "entries":[{"link":"https://hip.example/files/1","media":"application/fhir+json","checksum":"","careContextReference":"VISIT-2024-001"}],
		  "keyMaterial": ` + keyMaterialJSON + `}`},

	// §3.6 and §4.7 notify
	{"3.6 hip health-information notify",
		abdm.HealthInformationNotifyRequest{Notification: abdm.HealthInformationNotification{ConsentID: consentID, TransactionID: hiTxnID,
			DoneAt: ts("2024-05-09T10:40:00.000Z"), Notifier: abdm.Notifier{Type: abdm.RoleHIP, ID: "IN2810014366"},
			StatusNotification: abdm.StatusNotification{SessionStatus: "TRANSFERRED", HIPID: "IN2810014366",
				StatusResponses: []abdm.CareContextStatus{{CareContextReference: "VISIT-2024-001", HIStatus: "DELIVERED", Description: "Delivered"}}}}},
		`{ "notification": {
		    "consentId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
		    "transactionId": "a2f0c3de-6b1a-4c4f-9d59-2f3c4b5a6d7e",
		    "doneAt": "2024-05-09T10:40:00.000Z",
		    "notifier": { "type": "HIP", "id": "IN2810014366" },
		    "statusNotification": {
		      "sessionStatus": "TRANSFERRED",
		      "hipId": "IN2810014366",
		      "statusResponses": [ { "careContextReference": "VISIT-2024-001", "hiStatus": "DELIVERED", "description": "Delivered" } ] } } }`},
	{"4.7 hiu health-information notify",
		abdm.HealthInformationNotifyRequest{Notification: abdm.HealthInformationNotification{ConsentID: consentID, TransactionID: hiTxnID,
			DoneAt: ts("2024-05-09T10:41:00.000Z"), Notifier: abdm.Notifier{Type: abdm.RoleHIU, ID: "IN2910000123"},
			StatusNotification: abdm.StatusNotification{SessionStatus: "RECEIVED", HIPID: "IN2810014366",
				StatusResponses: []abdm.CareContextStatus{{CareContextReference: "VISIT-2024-001", HIStatus: "OK"}}}}},
		`{"notification":{"consentId":"3fa85f64-5717-4562-b3fc-2c963f66afa6","transactionId":"a2f0c3de-6b1a-4c4f-9d59-2f3c4b5a6d7e",
		  "doneAt":"2024-05-09T10:41:00.000Z","notifier":{"type":"HIU","id":"IN2910000123"},
		  "statusNotification":{"sessionStatus":"RECEIVED","hipId":"IN2810014366",
		  "statusResponses":[{"careContextReference":"VISIT-2024-001","hiStatus":"OK"}]}}}`},
	{"3.6 notify accepted", abdm.NotifyAccepted{Status: "Notification is Accepted"}, `{"status":"Notification is Accepted"}`},

	// §4.1-4.5 HIU
	{"4.1 consent request init",
		abdm.ConsentRequestInitRequest{Consent: abdm.ConsentRequest{Purpose: purposeCareMgt, Patient: abdm.Ref{ID: "someone@sbx"},
			HIP: &abdm.Party{ID: "IN2810014366"}, CareContexts: []abdm.CareContextRef{visitRef}, HIU: abdm.Party{ID: "IN2910000123"},
			Requester: requesterDrA, HITypes: []abdm.HIType{abdm.HITypeOPConsultation, abdm.HITypePrescription},
			Permission: abdm.Permission{AccessMode: "VIEW",
				DateRange:   abdm.DateRange{From: ts("2020-01-01T00:00:00.000Z"), To: ts("2024-05-01T00:00:00.000Z")},
				DataEraseAt: ts("2024-06-01T00:00:00.000Z"), Frequency: abdm.Frequency{Unit: "HOUR", Value: 1}}}},
		`{ "consent": {
		    "purpose": { "text": "Care Management", "code": "CAREMGT", "refUri": "http://terminology.hl7.org/ValueSet/v3-PurposeOfUse" },
		    "patient": { "id": "someone@sbx" },
		    "hip": { "id": "IN2810014366" },
		    "careContexts": [ { "patientReference": "PAT-001", "careContextReference": "VISIT-2024-001" } ],
		    "hiu": { "id": "IN2910000123" },
		    "requester": { "name": "Dr. A", "identifier": { "type": "REGNO", "value": "MH1001", "system": "https://www.mciindia.org" } },
		    "hiTypes": ["OPConsultation", "Prescription"],
		    "permission": {
		      "accessMode": "VIEW",
		      "dateRange": { "from": "2020-01-01T00:00:00.000Z", "to": "2024-05-01T00:00:00.000Z" },
		      "dataEraseAt": "2024-06-01T00:00:00.000Z",
		      "frequency": { "unit": "HOUR", "value": 1, "repeats": 0 } } } }`},
	{"4.1 consent request init for all HIPs",
		abdm.ConsentRequestInitRequest{Consent: abdm.ConsentRequest{Purpose: purposeCareMgt, Patient: abdm.Ref{ID: "someone@sbx"},
			HIU: abdm.Party{ID: "IN2910000123"}, Requester: abdm.Requester{Name: "Dr. A"}, HITypes: []abdm.HIType{abdm.HITypeOPConsultation},
			Permission: permission}},
		`{"consent":{"purpose":{"text":"Care Management","code":"CAREMGT","refUri":"http://terminology.hl7.org/ValueSet/v3-PurposeOfUse"},
		  "patient":{"id":"someone@sbx"},"hiu":{"id":"IN2910000123"},"requester":{"name":"Dr. A"},"hiTypes":["OPConsultation"],
		  "permission":{"accessMode":"VIEW","dateRange":{"from":"2023-01-01T00:00:00.000Z","to":"2024-05-01T00:00:00.000Z"},
		  "dataEraseAt":"2024-06-01T00:00:00.000Z","frequency":{"unit":"HOUR","value":1,"repeats":0}}}}`},
	{"4.1 consent request on-init (inbound)",
		abdm.ConsentRequestOnInitRequest{ConsentRequest: &abdm.Ref{ID: crID}, Response: abdm.ResponseRef{RequestID: "R1"}},
		`{ "consentRequest": { "id": "e3c74829-3f82-4f94-959e-e10f57bcd57b" }, "error": null, "response": { "requestId": "R1" } }`},
	{"4.2 consent request status",
		abdm.ConsentRequestStatusRequest{ConsentRequestID: crID},
		`{"consentRequestId":"e3c74829-3f82-4f94-959e-e10f57bcd57b"}`},
	{"4.2 consent request on-status (inbound)",
		abdm.ConsentRequestOnStatusRequest{ConsentRequest: &abdm.ConsentRequestStatus{ID: crID, Status: abdm.ConsentGranted,
			ConsentArtefacts: []abdm.Ref{{ID: consentID}}}, Response: abdm.ResponseRef{RequestID: "S1"}},
		`{ "consentRequest": { "id": "e3c74829-3f82-4f94-959e-e10f57bcd57b", "status": "GRANTED", "consentArtefacts": [ { "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6" } ] },
		  "error": null, "response": { "requestId": "S1" } }`},
	{"4.3 hiu consent notify (inbound)",
		abdm.HIUConsentNotifyRequest{Notification: abdm.HIUConsentNotification{ConsentRequestID: crID, Status: abdm.ConsentGranted,
			ConsentArtefacts: []abdm.Ref{{ID: consentID}, {ID: "7c1e0b7a-0000-4000-8000-000000000001"}}}},
		`{ "notification": { "consentRequestId": "e3c74829-3f82-4f94-959e-e10f57bcd57b", "status": "GRANTED", "reason": null,
		                    "consentArtefacts": [ { "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6" }, { "id": "7c1e0b7a-0000-4000-8000-000000000001" } ] } }`},
	{"4.3 hiu consent notify denied (inbound)",
		abdm.HIUConsentNotifyRequest{Notification: abdm.HIUConsentNotification{ConsentRequestID: crID, Status: abdm.ConsentDenied, Reason: str("Patient denied")}},
		`{"notification":{"consentRequestId":"e3c74829-3f82-4f94-959e-e10f57bcd57b","status":"DENIED","reason":"Patient denied"}}`},
	{"4.3 hiu consent on-notify",
		abdm.HIUConsentOnNotifyRequest{Acknowledgement: []abdm.HIUConsentAck{{ConsentID: consentID, Status: "OK"}, {ConsentID: "7c1e0b7a-0000-4000-8000-000000000001", Status: "OK"}},
			Response: abdm.ResponseRef{RequestID: "N2"}},
		`{ "acknowledgement": [ { "consentId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "status": "OK" }, { "consentId": "7c1e0b7a-0000-4000-8000-000000000001", "status": "OK" } ],
		  "response": { "requestId": "N2" } }`},
	{"4.4 consent fetch", abdm.ConsentFetchRequest{ConsentID: consentID}, `{"consentId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}`},
	{"4.4 consent on-fetch (inbound)",
		abdm.ConsentOnFetchRequest{Consent: &abdm.FetchedConsent{Status: abdm.ConsentGranted, Signature: "c2lnbmF0dXJl",
			ConsentDetail: abdm.ConsentDetail{SchemaVersion: "v3", ConsentID: consentID, CreatedAt: ts("2024-05-01T05:10:20.123Z"),
				LastUpdated: ts("2024-05-01T05:11:00.000Z"), Patient: abdm.Ref{ID: "someone@sbx"},
				HIP: &abdm.Party{ID: "IN2810014366", Name: "ABC Hospital"}, HIU: abdm.Party{ID: "IN2910000123", Name: "XYZ Clinic"},
				ConsentManager: abdm.Ref{ID: "sbx"}, Requester: requesterDrA, Purpose: purposeCareMgt,
				HITypes: []abdm.HIType{abdm.HITypeOPConsultation}, CareContexts: []abdm.CareContextRef{visitRef}, Permission: permission}},
			Response: abdm.ResponseRef{RequestID: "F1"}},
		`{ "consent": {
		    "status": "GRANTED",
		    "consentDetail": { "schemaVersion": "v3", "consentId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
		      "createdAt": "2024-05-01T05:10:20.123Z", "lastUpdated": "2024-05-01T05:11:00.000Z",
		      "patient": { "id": "someone@sbx" }, "hip": { "id": "IN2810014366", "name": "ABC Hospital" }, "hiu": { "id": "IN2910000123", "name": "XYZ Clinic" },
		      "consentManager": { "id": "sbx" },
		      "requester": { "name": "Dr. A", "identifier": { "type": "REGNO", "value": "MH1001", "system": "https://www.mciindia.org" } },
		      "purpose": { "text": "Care Management", "code": "CAREMGT", "refUri": "http://terminology.hl7.org/ValueSet/v3-PurposeOfUse" },
		      "hiTypes": ["OPConsultation"],
		      "careContexts": [ { "patientReference": "PAT-001", "careContextReference": "VISIT-2024-001" } ],
		      "permission": { "accessMode": "VIEW", "dateRange": { "from": "2023-01-01T00:00:00.000Z", "to": "2024-05-01T00:00:00.000Z" }, "dataEraseAt": "2024-06-01T00:00:00.000Z",
		                      "frequency": { "unit": "HOUR", "value": 1, "repeats": 0 } } },
		    "signature": "c2lnbmF0dXJl" },
		  "error": null, "response": { "requestId": "F1" } }`},
	{"4.5 health-information request",
		abdm.HealthInformationRequest{HIRequest: abdm.HIRequest{Consent: abdm.Ref{ID: consentID},
			DateRange:   abdm.DateRange{From: ts("2023-01-01T00:00:00.000Z"), To: ts("2024-05-01T00:00:00.000Z")},
			DataPushURL: "https://our-hiu.example/api/v3/hiu/data/push/" + consentID, KeyMaterial: keyMaterial}},
		`{ "hiRequest": {
		    "consent": { "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6" },
		    "dateRange": { "from": "2023-01-01T00:00:00.000Z", "to": "2024-05-01T00:00:00.000Z" },
		    "dataPushUrl": "https://our-hiu.example/api/v3/hiu/data/push/3fa85f64-5717-4562-b3fc-2c963f66afa6",
		    "keyMaterial": ` + keyMaterialJSON + ` } }`},
	{"4.5 hiu health-information on-request (inbound)",
		abdm.HealthInformationOnRequest{HIRequest: &abdm.HIRequestAck{TransactionID: hiTxnID, SessionStatus: "REQUESTED"}, Response: abdm.ResponseRef{RequestID: "R5"}},
		`{ "hiRequest": { "transactionId": "a2f0c3de-6b1a-4c4f-9d59-2f3c4b5a6d7e", "sessionStatus": "REQUESTED" }, "response": { "requestId": "R5" } }`},
}

// canonical decodes JSON with numbers kept exact, for comparison.
func canonical(t *testing.T, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("invalid JSON %s: %v", data, err)
	}
	return v
}

func TestMessageContracts(t *testing.T) {
	for _, tt := range contractCases {
		t.Run(tt.name, func(t *testing.T) {
			want := canonical(t, []byte(tt.want))
			got, err := json.Marshal(tt.value)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if diff := cmp.Diff(want, canonical(t, got)); diff != "" {
				t.Errorf("encoding differs from the reference (-want +got):\n%s", diff)
			}

			// The reference payload decodes into the type and back unchanged.
			decoded := reflect.New(reflect.TypeOf(tt.value))
			if err := json.Unmarshal([]byte(tt.want), decoded.Interface()); err != nil {
				t.Fatalf("unmarshal reference payload: %v", err)
			}
			again, err := json.Marshal(decoded.Elem().Interface())
			if err != nil {
				t.Fatalf("re-marshal: %v", err)
			}
			if diff := cmp.Diff(want, canonical(t, again)); diff != "" {
				t.Errorf("round trip differs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEveryRouteHasAContract makes sure no routed message type was left out
// of the contract cases.
func TestEveryRouteHasAContract(t *testing.T) {
	covered := map[reflect.Type]bool{}
	for _, c := range contractCases {
		covered[reflect.TypeOf(c.value)] = true
	}
	for _, r := range abdm.CallbackRoutes() {
		if typ := reflect.TypeOf(r.NewBody()).Elem(); !covered[typ] {
			t.Errorf("callback %s: no contract case for %v", r.Path, typ)
		}
	}
	for _, r := range abdm.GatewayRoutes() {
		if r.NewBody == nil {
			continue
		}
		if typ := reflect.TypeOf(r.NewBody()).Elem(); !covered[typ] {
			t.Errorf("gateway %s: no contract case for %v", r.Path, typ)
		}
	}
}

// TestLenientDecoding covers the variations senders were seen to use.
func TestLenientDecoding(t *testing.T) {
	t.Run("hiTypes spelled as in the spec", func(t *testing.T) {
		var p abdm.PatientCareContexts
		if err := json.Unmarshal([]byte(`{"referenceNumber":"P","careContexts":[],"hiTypes":"Prescription","count":0}`), &p); err != nil {
			t.Fatal(err)
		}
		if p.HIType != abdm.HITypePrescription {
			t.Errorf("HIType = %q", p.HIType)
		}
	})
	t.Run("share with numbers and pinCode", func(t *testing.T) {
		var s abdm.PatientShareRequest
		body := `{"intent":"PROFILE_SHARE","metaData":{"hipId":"H","context":"C","latitude":12.97,"longitude":77.71},
			"profile":{"patient":{"abhaNumber":"91-1234-5678-9012","abhaAddress":"a@sbx","name":"N","gender":"F",
			"dayOfBirth":6,"monthOfBirth":6,"yearOfBirth":2000,"address":{"line":"l","district":"d","state":"s","pinCode":"560001"},"phoneNumber":"9"}}}`
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatal(err)
		}
		p := s.Profile.Patient
		if s.MetaData.Latitude != "12.97" || p.YearOfBirth != "2000" || p.DayOfBirth != "6" || p.Address.Pincode != "560001" ||
			p.ABHANumber == nil || *p.ABHANumber != "91-1234-5678-9012" {
			t.Errorf("decoded %+v / %+v", s.MetaData, p)
		}
	})
	t.Run("otp as integer, expiry as number", func(t *testing.T) {
		var c abdm.LinkConfirmRequest
		if err := json.Unmarshal([]byte(`{"confirmation":{"linkRefNumber":"x","token":123456}}`), &c); err != nil {
			t.Fatal(err)
		}
		var a abdm.ShareTokenProfile
		if err := json.Unmarshal([]byte(`{"context":"c","tokenNumber":7,"expiry":180}`), &a); err != nil {
			t.Fatal(err)
		}
		if c.Confirmation.Token != "123456" || a.Expiry != "180" || a.TokenNumber != "7" {
			t.Errorf("got %q %q %q", c.Confirmation.Token, a.Expiry, a.TokenNumber)
		}
	})
	t.Run("abha number as string in generate-token", func(t *testing.T) {
		var g abdm.GenerateTokenRequest
		if err := json.Unmarshal([]byte(`{"abhaNumber":"91123456789012","abhaAddress":"a@sbx","name":"n","gender":"M","yearOfBirth":1990}`), &g); err != nil {
			t.Fatal(err)
		}
		if g.ABHANumber == nil || *g.ABHANumber != "91123456789012" {
			t.Errorf("ABHANumber = %v", g.ABHANumber)
		}
	})
	t.Run("timestamps without zone or fraction", func(t *testing.T) {
		var p abdm.Permission
		body := `{"accessMode":"VIEW","dateRange":{"from":"2023-01-01T00:00:00Z","to":"2024-05-01T10:20:30.5"},"dataEraseAt":"","frequency":{"unit":"HOUR","value":1,"repeats":0}}`
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2024, 5, 1, 10, 20, 30, 5e8, time.UTC); !p.DateRange.To.Equal(want) {
			t.Errorf("to = %v, want %v", p.DateRange.To, want)
		}
		if !p.DataEraseAt.IsZero() {
			t.Errorf("empty dataEraseAt = %v, want zero", p.DataEraseAt)
		}
	})
	t.Run("error null on HIU callbacks", func(t *testing.T) {
		var s abdm.ConsentRequestOnStatusRequest
		if err := json.Unmarshal([]byte(`{"consentRequest":{"id":"x","status":"DENIED"},"error":null,"response":{"requestId":"r"}}`), &s); err != nil {
			t.Fatal(err)
		}
		if s.Error != nil || s.ConsentRequest.Status != abdm.ConsentDenied {
			t.Errorf("got %+v", s)
		}
	})
}
