"""The background workers, each started with the Application and stopped with it: the
submission worker (outbox → Coachview, exactly once), the notification sender, the reminders
of unfinished enrollments and of course dates, and the retention rounds."""
