app-name = Vigía
app-tagline = Access and conditions record for migrant detention centers
lang-name = English
lang-switch = Change language
nav-facilities = Detention centers
nav-audit = Change history
nav-logout = Sign out
nav-login = Sign in
nav-skip = Skip to content
signed-in-as = Signed in as { $name } ({ $org }, { $role })

role-admin = admin
role-coordinator = coordinator
role-monitor = monitor
role-lawyer = lawyer
role-analyst = analyst

login-title = Sign in
login-email = Email
login-password = Password
login-submit = Sign in
login-failed = The email or the password is not correct.
login-locked = Too many failed attempts. Wait { $minutes } minutes and try again.
logged-out = You signed out.

facilities-title = Detention centers
facilities-intro = Shared registry of immigration stations and provisional facilities. Every organization can read it; every change is kept in the history.
facilities-new = Register a center
facilities-empty = No centers are registered yet.
facilities-count = { $count ->
    [one] 1 center
   *[other] { $count } centers
}
facility-new-title = Register a detention center
facility-edit-title = Correct “{ $name }”
facility-save = Save
facility-saved = Version { $version } saved.
facility-created = Center registered.
facility-history = History
facility-edit = Correct
facility-notes = Your organization's private notes
facility-notes-help = Encrypted in the database. Only people of your organization with access to personal data see them.
facility-notes-empty = Your organization has no notes on this center.
facility-note-add = Add note
facility-note-saved = Note saved and encrypted.
facility-notes-hidden = Your role gives no access to private notes.
facility-version = Version { $version }
facility-unknown = Unknown
facility-open = Operating
facility-closed = Closed since { $date }
form-errors = Check the marked fields: { $count ->
    [one] there is 1 error.
   *[other] there are { $count } errors.
}
form-optional = optional
form-conflict = Someone saved another version while you were editing. Check the current data and save again.

field-name = Name
field-kind = Kind
field-authority = Operating authority
field-state_code = State
field-municipality = Municipality
field-latitude = Latitude
field-longitude = Longitude
field-capacity = Official capacity
field-capacity-hint = As published by the authority. Leave it empty when unknown: it is never estimated.
field-opened_on = Opened on
field-closed_on = Closed on
field-sources = Sources
field-sources-hint = One per line: document, press report or web address.
field-body = Note
field-status = Status
field-choose = Choose one

kind-estacion_migratoria = Immigration station
kind-estancia_provisional_a = Provisional facility type A (up to 48 hours)
kind-estancia_provisional_b = Provisional facility type B (up to 7 days)
kind-other = Other

history-title = History of “{ $name }”
history-intro = Every saved version, who saved it and when. Nothing is deleted: corrections are new versions.
history-when = When (UTC)
history-who = Who
history-action = Action
history-changes = Changes
history-hash = Fingerprint (SHA-256)
history-system = System
action-create = created
action-update = corrected
action-disable = disabled
action-enable = re-enabled
action-set_locale = language changed
action-rewrap = key re-wrapped

audit-title = Your organization's change history
audit-intro = A tamper-evident chain of entries: each one keeps the fingerprint of the one before.
audit-seq = No.
audit-record = Record

error-title = Something went wrong
error-not-found = We could not find that page or record.
error-forbidden = Your role does not allow this action.
error-bad-request = The request is not valid: { $reason }
error-csrf = The form expired or did not come from this page. Reload it and try again.
error-internal = An internal error occurred. It was logged; try again later.
error-too-large = The submission is too large.
error-unauthorized = You need to sign in.
error-conflict = Conflict: { $what }
error-back = Back to the start

err-required = This field is required.
err-unknown_field = This field does not exist.
err-expected_text = Must be text.
err-expected_integer = Must be a whole number.
err-expected_number = Must be a number.
err-expected_date = Must be a valid date written YYYY-MM-DD.
err-expected_boolean = Must be yes or no.
err-expected_object = The body must be a JSON object.
err-out_of_range = Must be between { $min } and { $max }.
err-too_long = Too long: at most { $max } characters.
err-control_characters = Contains control characters that are not allowed.
err-unknown_choice = Not one of the options.
err-unknown_state = Not an INEGI state code (01 to 32).
err-coordinates_incomplete = Give latitude and longitude together.
err-before_opened = Cannot be before the opening date.
err-invalid_email = Not a valid email address.
err-password_too_short = Must be at least { $min } characters long.
err-password_common = This password is too common.
err-invalid_slug = Use 2 to 40 lowercase letters, digits or hyphens.
err-invalid_json = Not valid JSON.
err-unknown_column = Unknown column.
err-missing_column = This column is missing.
err-wrong_column_count = The row does not have the header's number of columns.
err-invalid_utf8 = The row is not UTF-8.
err-invalid_csv = The file is not a valid CSV.
err-duplicate_row = Repeats line { $line }.
err-too_many_rows = Too many rows: at most { $max }.

import-title = Import centers from CSV
import-intro = Every row is checked: if any has an error none is imported, and each error is shown with its line and column.
import-file = CSV file (UTF-8, comma-separated)
import-columns = A header with the columns: name, kind, state_code (required) and authority, municipality, latitude, longitude, capacity, opened_on, closed_on, sources.
import-submit = Import
import-done = { $count } centers imported.
import-rejected = Nothing was imported: { $count ->
    [one] there is 1 problem.
   *[other] there are { $count } problems.
}
import-line = Line
import-column = Column
import-reason = Reason

nav-users = People
users-title = People in your organization
users-add = Add a person
users-name = Name
users-role = Role
users-password = Initial password
users-password-hint = At least { $min } characters; share it over a safe channel.
users-added = { $email } was added.
users-changed = Change saved.
users-active = Active
users-disabled = Disabled
users-disable = Disable
users-enable = Re-enable
users-not-self = you cannot disable yourself
err-email_taken = An account with this email already exists.

nav-clock = Deadlines
clock-title = Work out a deadline in working days
clock-intro = Counting starts the working day after the triggering event. Every day that does not count shows its reason and legal basis.
clock-from = Date of the event
clock-working-days = Working days
clock-calendar = Calendar
clock-submit = Calculate
clock-result = { $n } working days after { $from }: { $date }
clock-counts = counts ({ $n })
clock-day = Day
clock-why = Does it count?

nav-access = Access
access-title = Access attempts
access-intro = Every attempt to enter a detention center: what was asked, what the authority answered and the restrictions met. Shared with the coalition unless your organization marks them private.
access-new = Record an attempt
access-empty = No attempts match.
access-count = { $count ->
    [one] 1 attempt
   *[other] { $count } attempts
}
access-new-title = Record an access attempt
access-edit-title = Correct the attempt of { $when }
access-show-title = { $facility }, { $when }
access-created = Attempt recorded.
access-saved = Version { $version } saved.
access-readonly = Recorded by { $org } and shared with your coalition: you can see it, not correct it.
access-filter = Filter
access-any = All
access-org = Organization
field-facility_id = Center
field-attempted_at = Date and time of the attempt
field-attempted_at-hint = The center's local time.
field-requested_at = Date and time of the request
field-purpose = Purpose
field-team_size = People in the team
field-people_to_see = Detained people you meant to see
field-outcome = Outcome
field-reason_category = Reason given
field-reason_text = What the authority said
field-official = Official who answered (name or role)
field-restrictions = Restrictions
field-notes = Notes
field-visibility = Who sees it?
field-from = From
field-until = Until
purpose-legal_assistance = Legal assistance
purpose-monitoring = Monitoring
purpose-religious = Religious
purpose-humanitarian = Humanitarian
purpose-medical = Medical
purpose-other = Other
outcome-granted = Granted
outcome-partially_granted = Partially granted
outcome-denied = Denied
outcome-delayed = Delayed
outcome-no_response = No response
outcome-cancelled_by_authority = Cancelled by the authority
reason-orders_from_above = Orders from above
reason-no_authorization_on_file = No authorization on file
reason-capacity = Capacity
reason-health_measures = Health measures
reason-none_given = None given
reason-other = Other
restriction-no_phones = No phones
restriction-time_limit = Time limit
restriction-areas_closed = Areas closed
restriction-no_private_interview = No private interview
restriction-searched = Searched
restriction-other = Other
visibility-coalition = My organization and the coalition
visibility-private = My organization only
err-expected_datetime = Must be a valid date and time (YYYY-MM-DD HH:MM).
err-in_future = Cannot be in the future.
err-too_early = Cannot be before { $min }.
err-after_attempt = The request cannot come after the attempt.
err-unknown_facility = No registered center matches.

nav-analysis = Analysis
analysis-title = Access analysis
analysis-summary = Over { $count } attempts your organization may see.
analysis-refusals = Refusals are: denied, no response and cancelled by the authority.
analysis-episodes = Suspected general suspensions
analysis-method = A { $days }-day window is flagged when at least { $facilities } centers refuse far more than their own 180-day baseline, to at least { $orgs } organizations, and the total refusals are improbable had nothing changed (exact Poisson-binomial test, p < { $alpha }).
analysis-no-episodes = None detected in this period.
analysis-span = Period
analysis-counts = Refusals
analysis-episode-counts = { $refusals } of { $attempts } attempts ({ $expected } expected)
analysis-by-facility = By center
analysis-by-org = By organization
analysis-by-month = By month
analysis-attempts = Attempts
analysis-refused = Refusals
analysis-rate = Refusal rate

access-files = Evidence
access-files-empty = No files.
access-file-upload = Attach a photo, PDF or audio
access-file-hint = Up to 10 MiB. Stored with its SHA-256 fingerprint, which goes into the history.
access-file-submit = Attach
access-file-attached = File attached; its fingerprint is in the history.
err-file_too_large = The file is too large: at most { $max } MiB.
err-file_type = Only photos (JPEG, PNG, WebP), PDF and audio (MP3, OGG, M4A, WAV) are accepted.

analysis-status = Current state of access
analysis-last = Last attempt
analysis-recent = Latest outcomes

nav-alerts = Alerts
nav-webhooks = Webhooks
alerts-title = Alerts
alerts-intro = Access refusals recorded by your organization or shared by the coalition, and suspected general suspensions.
alerts-empty = No alerts.
alerts-mark-read = Mark as read
alerts-refusal = { $facility }: { $outcome }
alerts-refusal-detail = Recorded by { $org }; attempt of { $when }.
alerts-episode = Suspected general suspension from { $start } to { $end }
alerts-episode-detail = { $refusals } refusals in { $attempts } attempts, { $orgs } organizations; centers: { $facilities }.
webhooks-title = Webhooks
webhooks-intro = Every alert of your organization is sent to these addresses as signed JSON (HMAC-SHA256 of "timestamp.body" in X-Vigia-Signature). Failures are retried with growing delays; nothing is lost if the server restarts.
webhooks-url = Address (https://…)
webhooks-add = Register webhook
webhooks-secret = Secret to verify signatures (shown only this once):
webhooks-log = Delivery log
webhooks-attempts = Attempts
webhooks-answer = Last answer
delivery-pending = pending
delivery-delivered = delivered
delivery-failed = failed
err-invalid_url = Must be a complete http:// or https:// address.
