"""Identity data that finalisation requires (issue 12: seller SIREN, address, legal form,
RCS or RM, VAT number or franchise; a French business customer's SIREN and address), for
the fixtures of tests that finalise factures or avoirs."""

#: merged into a company form (companies.save_company)
SELLER = {"legal_form": "SARL", "address_line1": "3 rue de la Paix", "postal_code": "75002", "city": "Paris",
          "siren": "732829320", "vat_number": "FR44732829320", "rcs_city": "Paris"}
#: merged into a business contact (ContactInput fields)
BUSINESS_BUYER = {"siren": "552100554", "address_line1": "3 place du Marché", "postal_code": "69003", "city": "Lyon"}
#: merged into a consumer contact: nothing is required but an address is kind
CONSUMER_ADDRESS = {"address_line1": "8 allée des Tilleuls", "postal_code": "44000", "city": "Nantes"}
