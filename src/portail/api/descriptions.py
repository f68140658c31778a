"""The French descriptions of the operations, for the OpenAPI document (`documentation.py`).

One table rather than a text on each decorator: a route that writes its own `description` keeps
it; a route missing from both is caught by tests/api/test_openapi_complet.py."""

from __future__ import annotations

OPERATIONS: dict[str, str] = {
    "GET /health": "Sonde de vie : le processus répond, sans lire la base de données.",
    "GET /ready": (
        "Sonde de disponibilité : 200 quand la base répond et que les vues ont rattrapé le journal "
        "trouvé au démarrage ; 503 sinon (le répartiteur attend avant d'envoyer du trafic)."
    ),
    "GET /metrics": "Compteurs et durées au format texte de Prometheus, pour la supervision.",
    "POST /api/auth/confirmation-email": (
        "Rend effective la nouvelle adresse avec le jeton du lien reçu à cette adresse ; "
        "toutes les sessions du compte sont ensuite fermées."
    ),
    "POST /api/auth/connexion": (
        "Ouvre une session : la réponse donne le jeton porteur et la valeur `csrf`, et pose les cookies "
        "`portail_session` et `csrftoken`. Les échecs répétés sont limités (429 avec `Retry-After`)."
    ),
    "POST /api/admin/comptes": "Crée le compte d'un agent, d'un régisseur, d'un auditeur ou d'un administrateur.",
    "POST /api/auth/deconnexion": "Révoque le jeton de la session et efface les cookies de session.",
    "POST /api/inscription": (
        "Crée le compte d'un responsable et le dossier de sa famille ; la réponse ouvre la session."
    ),
    "POST /api/auth/mot-de-passe-oublie": (
        "Envoie un lien de réinitialisation si l'adresse est connue ; la réponse est la même dans tous "
        "les cas, pour ne pas révéler quelles adresses ont un compte."
    ),
    "POST /api/auth/reinitialisation": (
        "Enregistre le nouveau mot de passe avec le jeton du lien reçu ; le lien ne sert qu'une fois."
    ),
    "PUT /api/moi/email": (
        "Demande le changement d'adresse, après vérification du mot de passe actuel : un lien part vers "
        "la nouvelle adresse, l'ancienne est prévenue."
    ),
    "PUT /api/moi/mot-de-passe": (
        "Change le mot de passe après vérification de l'actuel ; toutes les sessions sont fermées."
    ),
    "GET /api/moi": "Le compte connecté : adresse, rôles, famille, et la fiche du responsable pour un parent.",
    "PATCH /api/moi": "Modifie les champs envoyés de la fiche du responsable connecté ; les autres restent.",
    "PUT /api/foyer/autre-responsable": "Enregistre ou remplace la fiche du second responsable du foyer.",
    "DELETE /api/foyer/autre-responsable": "Retire la fiche du second responsable du foyer.",
    "GET /api/foyer": "Le foyer de la famille connectée : responsables, adresse et situation familiale.",
    "PATCH /api/foyer": "Modifie les champs envoyés du foyer ; les autres restent.",
    "GET /api/enfants": "Les enfants de la famille connectée, avec leur fiche.",
    "POST /api/enfants": "Ajoute un enfant au dossier de la famille connectée.",
    "PUT /api/enfants/{enfant_id}/autorisations": (
        "Remplace les autorisations de l'enfant (droit à l'image, sortie seul, transport, soins d'urgence)."
    ),
    "GET /api/enfants/{enfant_id}": "La fiche complète d'un enfant de la famille connectée.",
    "PATCH /api/enfants/{enfant_id}": "Modifie les champs envoyés de la fiche de l'enfant ; les autres restent.",
    "PUT /api/enfants/{enfant_id}/personnes-autorisees": (
        "Remplace la liste des personnes autorisées à venir chercher l'enfant."
    ),
    "PUT /api/enfants/{enfant_id}/sante": (
        "Remplace les renseignements médicaux de l'enfant (allergies, PAI, régime, médecin, vaccinations)."
    ),
    "GET /api/prelevement": "Le mandat de prélèvement SEPA de la famille, l'IBAN masqué.",
    "PUT /api/prelevement": "Signe ou remplace le mandat de prélèvement SEPA de la famille.",
    "DELETE /api/prelevement": "Révoque le mandat : les factures suivantes se paient par un autre moyen.",
    "GET /api/quotient-familial": "Le quotient familial de la famille, sa source et ses dates d'effet.",
    "PUT /api/regie/familles/{famille_id}/quotient-familial": (
        "Enregistre le quotient familial d'une famille à partir d'une date d'effet ; il sert aux tarifs "
        "des jours suivants."
    ),
    "DELETE /api/admin/familles/{famille_id}": (
        "Efface les données personnelles d'une famille (droit à l'effacement) ; les pièces comptables "
        "restent, sans nom."
    ),
    "POST /api/admin/accueils": "Crée un accueil (cantine, périscolaire, centre de loisirs) avec ses unités et règles.",
    "GET /api/admin/parametres": "Les paramètres de la commune : identité, régie, seuil de facturation.",
    "PUT /api/admin/parametres": "Remplace les paramètres de la commune, de la régie et le seuil de facturation.",
    "POST /api/admin/accueils/{accueil_id}/fermetures": (
        "Ferme un accueil un jour donné ; les réservations de ce jour sont annulées sans être facturées."
    ),
    "GET /api/accueils": "Les accueils qu'un enfant de la famille peut réserver, avec leurs unités.",
    "POST /api/enfants/{enfant_id}/absences": (
        "Signale l'absence de l'enfant à des jours réservés, justifiée ou non ; la facturation en tient compte."
    ),
    "POST /api/enfants/{enfant_id}/annulations": (
        "Annule des réservations de l'enfant dans le délai permis par la règle d'annulation de l'accueil."
    ),
    "GET /api/enfants/{enfant_id}/planning": (
        "Le calendrier d'un mois de l'enfant : pour chaque jour et unité, l'état et si elle est modifiable."
    ),
    "POST /api/enfants/{enfant_id}/reservations/recopier": (
        "Recopie les réservations d'une semaine sur les semaines suivantes, jusqu'à une date."
    ),
    "POST /api/enfants/{enfant_id}/reservations": (
        "Réserve des unités d'un accueil pour l'enfant ; un jour complet passe en liste d'attente selon "
        "l'accueil. Avec `Idempotency-Key`, un renvoi donne la même réponse."
    ),
    "GET /api/agent/pointage": (
        "Les enfants attendus dans un accueil un jour donné, avec ce que l'agent doit savoir "
        "(allergies, PAI) et les présences déjà pointées."
    ),
    "POST /api/agent/pointage": "Enregistre les présences et absences d'un accueil un jour donné, avec les horaires.",
    "GET /api/agent/occupation": "Pour chaque jour et unité d'un accueil : places réservées, capacité et liste d'attente.",
    "POST /api/offres/{offre_id}/acceptation": "Accepte une place libérée proposée depuis la liste d'attente, avant son expiration.",
    "GET /api/offres": "Les places libérées proposées à la famille depuis la liste d'attente, avec leur date d'expiration.",
    "POST /api/offres/{offre_id}/refus": "Refuse une place proposée ; elle est proposée à la famille suivante.",
    "PUT /api/admin/accueils/{accueil_id}/tarifs": (
        "Enregistre les grilles tarifaires d'un accueil à partir d'une date ; les périodes déjà facturées "
        "ne changent pas."
    ),
    "GET /api/regie/brouillons": "Calcule, sans rien enregistrer, ce que facturerait une campagne du mois lancée maintenant.",
    "POST /api/regie/campagnes/{campagne_id}/correction": (
        "Prépare une campagne corrective d'une campagne émise : seules les différences sont facturées."
    ),
    "POST /api/regie/campagnes/{campagne_id}/emission": "Émet les factures d'une campagne préparée ; elles deviennent visibles des familles.",
    "GET /api/regie/campagnes/{campagne_id}/lignes": "Les lignes d'une campagne, chacune avec son explication (tarif, quantité, règle).",
    "GET /api/regie/campagnes/{campagne_id}": "Une campagne : période, statut, totaux, anomalies et empreinte.",
    "GET /api/regie/campagnes/{campagne_id}/prelevements.xml": (
        "Le fichier SEPA pain.008 des factures de la campagne payées par prélèvement, à remettre à la banque."
    ),
    "POST /api/regie/campagnes": "Prépare la campagne de facturation d'un mois, à vérifier avant émission.",
    "POST /api/regie/rejeu": (
        "Recalcule une période telle qu'elle était à une position du journal ou à une date, pour expliquer "
        "une facture passée."
    ),
    "GET /api/factures/a-venir": "Le montant déjà dû pour le mois en cours, avant que la facture soit émise.",
    "GET /api/factures/{facture_id}": "Une facture de la famille, avec ses lignes expliquées et son reste à payer.",
    "GET /api/factures": "Les factures et pièces de la famille, de la plus récente à la plus ancienne.",
    "POST /api/factures/{facture_id}/paiement": (
        "Ouvre une session de paiement par carte chez le prestataire ; la réponse donne l'adresse où "
        "envoyer le parent."
    ),
    "GET /api/factures/{facture_id}/pdf": "La facture au format PDF, telle que la famille la reçoit.",
    "POST /api/regie/reglements": "Enregistre un règlement reçu (chèque, espèces, CESU…) et l'impute aux factures ouvertes.",
    "POST /api/regie/reglements/{reglement_id}/rejet": (
        "Enregistre le rejet d'un prélèvement par la banque : les factures qu'il réglait se rouvrent."
    ),
    "GET /api/regie/reglements/{reglement_id}/representation.xml": (
        "Le fichier SEPA pain.008 qui représente un prélèvement rejeté, à remettre à la banque."
    ),
    "POST /api/regie/reglements/{reglement_id}/representation": (
        "Représente un prélèvement rejeté à une nouvelle échéance ; une seule représentation est permise."
    ),
    "GET /api/solde": "Le solde de la famille : reste à payer, avoirs disponibles et factures ouvertes.",
    "GET /api/solde/paiements": (
        "L'historique de la famille, du plus récent au plus ancien : règlements reçus (un prélèvement "
        "rejeté par la banque est marqué), rejets et remboursements d'avoir."
    ),
    "POST /api/paiements/test/{session_id}/carte": (
        "Le prestataire de carte de test, actif seulement en démonstration : simule la saisie de la carte."
    ),
    "POST /api/paiements/notification": (
        "Notification signée du prestataire de paiement : le paiement accepté devient un règlement."
    ),
    "GET /api/attestations/frais-de-garde": (
        "Les frais de garde réglés dans l'année pour les enfants de moins de 6 ans, pour la déclaration d'impôts."
    ),
    "GET /api/attestations/frais-de-garde/pdf": "L'attestation de frais de garde de l'année au format PDF.",
    "GET /api/audit/evenements": (
        "Les événements du journal filtrés par famille, enfant, acteur, type et dates, page par page "
        "(`suivant` donne la page suivante)."
    ),
    "GET /api/audit/export": "Le journal filtré exporté en flux, en lignes JSON ou en CSV.",
    "GET /api/audit/agregats/{agregat_id}/historique": (
        "L'historique d'un agrégat champ par champ : ancienne et nouvelle valeur, auteur, date et motif."
    ),
    "GET /api/audit/verification": (
        "Vérifie la chaîne d'empreintes du journal et donne la première anomalie trouvée, s'il y en a une."
    ),
    "GET /api/documents/{document_id}/contenu": "Le fichier d'un document déposé par la famille.",
    "GET /api/documents": "Les documents déposés par la famille, avec leur statut de vérification.",
    "POST /api/documents": (
        "Dépose un justificatif (formulaire multipart : PDF, JPEG ou PNG, 10 Mo au plus) ; il attend la "
        "vérification d'un agent."
    ),
    "GET /api/agent/documents/{document_id}/contenu": "Le fichier d'un document déposé, pour sa vérification.",
    "GET /api/agent/documents": "Les documents déposés par les familles, filtrés par statut, pour vérification.",
    "POST /api/agent/documents/{document_id}/refus": "Refuse un document déposé, avec le motif montré à la famille.",
    "POST /api/agent/documents/{document_id}/validation": "Valide un document déposé.",
    "GET /api/actualites": "Les actualités publiées pour tous ou pour les accueils des enfants de la famille.",
    "POST /api/admin/actualites": "Publie une actualité pour toutes les familles ou pour celles de certains accueils.",
}
