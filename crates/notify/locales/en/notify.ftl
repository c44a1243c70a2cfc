# Notifications of the Population State Register (English).
# The variables are filled in by popreg-notify; see docs/notifications.md.

## Common

local-time = { $time } (Yerevan time)
whole-submission = the whole submission
error-item =
    { $n }. { $code }: { $title }
       Field: { $field }
       { $explanation }
       Details: { $detail }
feed-hint =
    The list of your body's rejected submissions, with codes, fields and times, is available
    through the register's API: { $feed }
footer =
    This message was sent automatically. Please do not reply to it.
    Population State Register of Armenia

## Rejection (A1.52–53)

rejection-subject = Submission rejected: { $kind_title } ({ $code })
rejection-body =
    Dear colleague,

    The Population State Register rejected data submitted by your body ({ $body_id }).

    Kind of data: { $kind_title } ({ $kind })
    Submission id: { $submission_id }
    Received: { $received_at }
    Rejection number: { $rejection_id }

    Reasons for the rejection:

    { $errors }

    What to do: correct the data named above and submit them again as a new submission.
    Rejected data were not recorded in the register.

    { $feed_hint }

    { $footer }

## Reminder (A1.54)

reminder-subject = Reminder: rejected data not yet corrected: { $kind_title } ({ $code })
reminder-body =
    Dear colleague,

    Data submitted by your body ({ $body_id }) were rejected, and no corrected data have been
    received within { $days ->
        [one] { $days } day
       *[other] { $days } days
    }.

    Kind of data: { $kind_title } ({ $kind })
    Submission id: { $submission_id }
    Received: { $received_at }
    Rejection number: { $rejection_id }

    Reasons for the rejection:

    { $errors }

    Please correct the data and submit them again without delay. After repeated delays or errors
    the register's manager may restrict or temporarily suspend your body's right to enter data.

    { $feed_hint }

    { $footer }
