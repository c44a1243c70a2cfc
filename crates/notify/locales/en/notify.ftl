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

## E-Citizen portal: verification of a forwarding address (G.5)

portal-footer =
    This message was sent automatically. Please do not reply to it.
    E-Citizen portal of the Republic of Armenia
verification-subject = E-Citizen email verification
verification-body =
    Hello,

    This address was added for forwarding the notifications of your official e-Citizen inbox.
    To confirm that the address is yours, open this link:

    { $link }

    The link works once, until { $expires_at }. If you did not add this address, ignore this
    message: nothing will be forwarded to it.

    Your forwarding settings: { $forwarding_url }

    { $portal_footer }

## E-Citizen portal: a notification forwarded from the inbox (G.3.2–3)

legal-yes = This notification has legal effect: it counts as delivered when you open it in the portal.
legal-no = This notification is for your information.
attachments-none = Attachments: none.
attachments-list = Attachments (open them in the portal): { $names }
forwarded-subject = { $sender }: { $subject }
forwarded-body =
    You have a new notification in your official e-Citizen inbox.

    From: { $sender }
    Sent: { $created_at }
    Subject: { $subject }
    { $legal }

    { $text }

    { $attachments }
    Read it in the portal: { $inbox_url }

    This copy was forwarded to you because you verified this address in the portal. To stop
    forwarding, remove the address in your forwarding settings: { $forwarding_url }

    { $portal_footer }

## E-Citizen portal: SMS texts (G.7), rendered by the SMS delivery

phone-verification-sms = To verify this number E-Citizen portal please provide this token: { $token }
notification-sms = New notification in your e-Citizen inbox from { $sender }: { $inbox_url }
