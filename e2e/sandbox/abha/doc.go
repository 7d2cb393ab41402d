// Package abha is an in-memory stand-in for the ABDM ABHA service (M1),
// https://abhasbx.abdm.gov.in/abha/api, built to be driven by Sangam's real
// ABHA client over HTTP:
//
//	svc, err := abha.New(abha.Config{VerifyToken: gw.VerifySessionToken})
//	mux.Handle("/abha/api/", http.StripPrefix("/abha/api", svc))
//	mux.Handle("/_sandbox/abha/", svc)
//
// It follows the project's reference notes (reference/abdm-v3.md §2.1–2.4,
// §5): every call needs the gateway session token (401 with the API
// manager's 900901/900902 bodies otherwise) plus REQUEST-ID and TIMESTAMP;
// Aadhaar numbers, mobiles, OTPs and login ids must be RSA-OAEP(SHA-1)
// encrypted with the key published at GET /v3/profile/public/certificate
// (RSA-4096; enrolment and /v3/profile/*) or GET
// /v3/phr/app/login/public/certificate (RSA-2048). /v3/phr/web/* accepts
// either key, because the sources disagree on which one it needs. A plain
// value is refused with the field-keyed 400 the real service gives
// ({"loginId":"Invalid LoginId","timestamp":...}); a value encrypted with the
// other key gets ABDM-1006.
//
// # Endpoints
//
//	GET  /v3/profile/public/certificate              RSA-4096 public key
//	GET  /v3/phr/app/login/public/certificate        RSA-2048 public key
//	POST /v3/enrollment/request/otp                  Aadhaar OTP (abha-enrol) or mobile OTP (mobile-verify, with txnId)
//	POST /v3/enrollment/enrol/byAadhaar              verify Aadhaar OTP, create the ABHA (or return the existing one: isNew=false)
//	POST /v3/enrollment/auth/byAbdm                  verify the mobile OTP (200 with authResult "failed" on a wrong OTP)
//	GET  /v3/enrollment/enrol/suggestion             ABHA address suggestions (header TRANSACTION_ID)
//	POST /v3/enrollment/enrol/abha-address           create an ABHA address (policy and availability checked)
//	POST /v3/profile/login/request/otp               login OTP by abha-number, aadhaar or mobile
//	POST /v3/profile/login/verify                    verify; mobile logins get a 300 s T-token and the account list
//	POST /v3/profile/login/verify/user               exchange the T-token for the chosen account's X-token
//	GET  /v3/profile/account                         profile (X-token)
//	GET  /v3/profile/account/abha-card               ABHA card, 202 image/png (or application/pdf, Config.CardFormat)
//	GET  /v3/profile/account/request/token           new X-token from the refresh token (R-token)
//	POST /v3/phr/web/login/abha/search               look up an ABHA address
//	POST /v3/phr/web/login/abha/request/otp          login OTP for an ABHA address
//	POST /v3/phr/web/login/abha/verify               verify; answers users + tokens
//	GET  /v3/phr/web/login/profile/abha-profile      ABHA-address profile (X-token from the address login)
//	GET  /v3/phr/web/login/profile/abha/phr-card     ABHA-address card, application/pdf
//
// OTPs are six random digits, never returned by the API and never logged.
// They expire after Config.OTPTTL; Config.MaxOTPAttempts wrong entries end
// the transaction and block the identity (Aadhaar number, mobile, ABHA number
// or address) for Config.BlockFor, as do more than Config.MaxOTPRequests OTP
// requests for one identity within BlockFor (ABDM-1100, NHA's published
// text). A wrong Aadhaar OTP is 422 ABDM-1204 (UIDAI code 400); a wrong
// mobile OTP is a 200 with authResult "failed". Both messages end with the
// attempts left, an addition of this sandbox: the real service is not known
// to say it. Expiry messages are inferred too.
//
// # Demo identities
//
// The Aadhaar numbers start with 9999, like UIDAI's published test
// residents, and carry a valid Verhoeff check digit; the mobiles are in an
// unused 90000 00xxx range. None belongs to a real person.
//
//	Aadhaar        Name          Aadhaar mobile  ABHA (seeded)      ABHA address     ABHA mobile  Exercises
//	9999 0000 0016 Asha Verma    9000000001      none               -                -            enrolment, same mobile (no mobile OTP step)
//	9999 0000 0028 Ravi Kumar    9000000002      none               -                -            enrolment with mobile 9000000012: mobile OTP step
//	9999 0000 0037 Sunita Rao    9000000003      91-0000-0000-0037  sunita.rao@sbx   9000000003   duplicate enrolment (isNew=false); login by ABHA number, address, Aadhaar
//	9999 0000 0044 Meena Iyer    9000000099      91-0000-0000-0044  meena.iyer@sbx   9000000099   mobile login with account selection (two ABHAs)
//	9999 0000 0059 Arjun Iyer    9000000005      91-0000-0000-0059  arjun.iyer@sbx   9000000099   second ABHA on Meena's mobile
//	9999 0000 0063 Farhan Sheikh 9000000006      none               -                -            "no ABHA" answers for Aadhaar and mobile login
//
// Any other Aadhaar number is refused as UIDAI does (ABDM-1204, UIDAI code
// 998). New ABHA numbers are random 91-xxxx-xxxx-xxxx values; each new ABHA
// gets the default address <ABHA number digits>@sbx.
//
// # Control API
//
// Under /_sandbox/abha/ (no token needed; field names are snake_case):
//
//	GET  /_sandbox/abha/                   HTML page: residents, accounts, recent OTPs
//	GET  /_sandbox/abha/otps?txn_id=&mobile=   {"otps":[OTP...]} newest first; the only place OTPs appear
//	GET  /_sandbox/abha/residents          {"residents":[Resident...]}
//	GET  /_sandbox/abha/accounts           {"accounts":[Account...]}
//	POST /_sandbox/abha/reset              204; accounts back to the seeded ones, no transactions, tokens, OTPs or blocks
package abha
