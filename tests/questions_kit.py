"""A questions file with every kind and every ``for``: the e2e tests ask it, unit tests map it."""

from __future__ import annotations

QUESTIONS = """
[[question]]
id = "factuur_postcode"
for = "contact"
kind = "postcode"
required = true
coachview = "factuurAdres.postcode"
label = { nl = "Postcode", en = "Postcode" }
ask = { nl = "Wat is je postcode?", en = "What is your postcode?" }

[[question]]
id = "bedrijf_telefoon"
for = "contact"
kind = "phone"
coachview = "bedrijf.telefoonnummer"
when = { company = true }
label = { nl = "Telefoon bedrijf", en = "Company phone" }
ask = { nl = "Wat is het nummer van het bedrijf?", en = "What is the company's number?" }

[[question]]
id = "geboortedatum"
for = "each-person"
kind = "date"
required = true
past = true
coachview = "geboorteDatum"
label = { nl = "Geboortedatum", en = "Date of birth" }
ask = { nl = "Wat is de geboortedatum?", en = "What is the date of birth?" }
help = { nl = "Bijvoorbeeld 12-3-1990.", en = "For example 12-3-1990." }

[[question]]
id = "vooropleiding"
for = "each-person"
kind = "choice"
required = true
coachview = "vrijeveldenPersoon.Vooropleiding"
label = { nl = "Vooropleiding", en = "Education" }
ask = { nl = "Wat is de hoogste opleiding?", en = "What is the highest education?" }
choices = [
  { value = "MBO", nl = "Mbo", en = "Vocational" },
  { value = "HBO", nl = "Hbo", en = "Applied university" },
]

[[question]]
id = "functie"
for = "each-person"
kind = "text"
min_length = 3
max_length = 20
coachview = "vrijeveldenPersoon.VrijveldFunctie"
label = { nl = "Functie", en = "Job title" }
ask = { nl = "Wat is de functie?", en = "What is the job title?" }

[[question]]
id = "factuur_email"
for = "enrollment"
kind = "email"
coachview = "debiteur.emailadresAnders"
label = { nl = "Factuur-e-mail", en = "Invoice e-mail" }
ask = { nl = "Naar welk adres mag de factuur?", en = "Where should the invoice go?" }

[[question]]
id = "nieuwsbrief"
for = "enrollment"
kind = "yesno"
coachview = "vrijevelden.Nieuwsbrief"
when = { course_codes = ["VCA-B"] }
label = { nl = "Nieuwsbrief", en = "Newsletter" }
ask = { nl = "Wil je de nieuwsbrief?", en = "Would you like the newsletter?" }
"""
