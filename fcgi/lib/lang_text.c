/*
 * lang text: the tables of lib/lang.c, data only: the language tags, the
 * messages, the texts of the validation codes and the status titles, in
 * every language of enum lang (lang.h).  lang_int.h fixes their sizes, so
 * a missing or extra row does not compile.
 */
#include <stddef.h>

#include "lib/lang.h"
#include "lib/lang_int.h"

const char *const lang_text_tags[LANG_COUNT] = {
	"en", "fr", "de", "es", "it", "nl", "pt"
};

/* ---- messages ----------------------------------------------------- */

const char *const lang_text_msgs[LANG_COUNT][LANG_MSG_COUNT] = {
	[LANG_EN] = {
		[LANG_SEP] = " ",
		[LANG_THANKS_TITLE] = "Thank you",
		[LANG_THANKS_TEXT] = "Your message has been received. We will "
		    "get back to you soon.",
		[LANG_REFERENCE] = "Reference:",
		[LANG_BACK] = "Back to the site",
		[LANG_CHECK_TITLE] = "Please check the form",
		[LANG_CHECK_TEXT] = "Some fields need your attention:",
		[LANG_RATE_TEXT] = "Please wait a little before you send this "
		    "form again.",
		[LANG_BAD_REQUEST] = "The form could not be read. Please go "
		    "back and send it again.",
		[LANG_NO_FORM] = "There is no such form.",
		[LANG_TRY_LATER] = "Please try again later.",
		[LANG_NOT_HTTPS] = "This form must be sent over HTTPS.",
		[LANG_BAD_ORIGIN] = "This form cannot be sent from that site.",
		[LANG_BAD_TYPE] = "The form was sent in a format this service "
		    "does not take.",
		[LANG_TOO_LARGE] = "The form is too large.",
		[LANG_TOO_MANY] = "The form has too many or too large fields.",
		[LANG_VALUE_TOO_LARGE] = "A field is too large.",
		[LANG_CAPTCHA_DOWN] = "The form could not be checked. Please "
		    "try again later.",
		[LANG_DUPLICATE] = "The same message is being sent. Please "
		    "wait a moment.",
		[LANG_NOT_CHECKED] = "Your message could not be checked. "
		    "Please try again later.",
		[LANG_NOT_STORED] = "Your message could not be stored. Please "
		    "try again later.",
		[LANG_INTERNAL] = "Something went wrong on our side. Please "
		    "try again later.",
		[LANG_CHALLENGE_ONLY] = "This address only gives challenges.",
		[LANG_POST_ONLY] = "This address only takes form posts.",
		[LANG_LABEL_CHALLENGE] = "The anti-spam",
		[LANG_LABEL_CAPTCHA] = "The captcha",
		[LANG_LABEL_FIELD] = "A field",
		[LANG_LINK_INVALID] = "This link is not valid or has "
		    "expired.",
	},
	[LANG_FR] = {
		[LANG_SEP] = "\xc2\xa0: ",	/* no-break space before ':' */
		[LANG_THANKS_TITLE] = "Merci",
		[LANG_THANKS_TEXT] = "Votre message a bien été reçu. Nous vous "
		    "répondrons rapidement.",
		[LANG_REFERENCE] = "Référence\xc2\xa0:",
		[LANG_BACK] = "Retour au site",
		[LANG_CHECK_TITLE] = "Merci de vérifier le formulaire",
		[LANG_CHECK_TEXT] = "Certains champs sont à corriger\xc2\xa0:",
		[LANG_RATE_TEXT] = "Merci de patienter un peu avant de renvoyer "
		    "ce formulaire.",
		[LANG_BAD_REQUEST] = "Le formulaire n’a pas pu être lu. Merci "
		    "de revenir en arrière et de le renvoyer.",
		[LANG_NO_FORM] = "Ce formulaire n’existe pas.",
		[LANG_TRY_LATER] = "Merci de réessayer plus tard.",
		[LANG_NOT_HTTPS] = "Ce formulaire doit être envoyé en HTTPS.",
		[LANG_BAD_ORIGIN] = "Ce formulaire ne peut pas être envoyé "
		    "depuis ce site.",
		[LANG_BAD_TYPE] = "Le formulaire a été envoyé dans un format "
		    "que ce service n’accepte pas.",
		[LANG_TOO_LARGE] = "Le formulaire est trop volumineux.",
		[LANG_TOO_MANY] = "Le formulaire comporte trop de champs, ou "
		    "des champs trop longs.",
		[LANG_VALUE_TOO_LARGE] = "Un champ est trop long.",
		[LANG_CAPTCHA_DOWN] = "Le formulaire n’a pas pu être vérifié. "
		    "Merci de réessayer plus tard.",
		[LANG_DUPLICATE] = "Ce message est déjà en cours d’envoi. Merci "
		    "de patienter un instant.",
		[LANG_NOT_CHECKED] = "Votre message n’a pas pu être vérifié. "
		    "Merci de réessayer plus tard.",
		[LANG_NOT_STORED] = "Votre message n’a pas pu être enregistré. "
		    "Merci de réessayer plus tard.",
		[LANG_INTERNAL] = "Une erreur s’est produite de notre côté. "
		    "Merci de réessayer plus tard.",
		[LANG_CHALLENGE_ONLY] = "Cette adresse ne fournit que des "
		    "défis anti-spam.",
		[LANG_POST_ONLY] = "Cette adresse ne reçoit que des envois de "
		    "formulaire.",
		[LANG_LABEL_CHALLENGE] = "Anti-spam",
		[LANG_LABEL_CAPTCHA] = "Captcha",
		[LANG_LABEL_FIELD] = "Un champ",
		[LANG_LINK_INVALID] = "Ce lien n'est pas valide ou a expiré.",
	},
	[LANG_DE] = {
		[LANG_SEP] = ": ",
		[LANG_THANKS_TITLE] = "Vielen Dank",
		[LANG_THANKS_TEXT] = "Ihre Nachricht ist bei uns eingegangen. "
		    "Wir melden uns in Kürze bei Ihnen.",
		[LANG_REFERENCE] = "Vorgangsnummer:",
		[LANG_BACK] = "Zurück zur Website",
		[LANG_CHECK_TITLE] = "Bitte prüfen Sie Ihre Angaben",
		[LANG_CHECK_TEXT] = "Einige Felder müssen noch korrigiert "
		    "werden:",
		[LANG_RATE_TEXT] = "Bitte warten Sie einen Moment, bevor Sie "
		    "das Formular erneut absenden.",
		[LANG_BAD_REQUEST] = "Das Formular konnte nicht gelesen werden. "
		    "Bitte gehen Sie zurück und senden Sie es erneut.",
		[LANG_NO_FORM] = "Dieses Formular gibt es nicht.",
		[LANG_TRY_LATER] = "Bitte versuchen Sie es später noch einmal.",
		[LANG_NOT_HTTPS] = "Dieses Formular muss über HTTPS gesendet "
		    "werden.",
		[LANG_BAD_ORIGIN] = "Dieses Formular kann von dieser Website "
		    "aus nicht gesendet werden.",
		[LANG_BAD_TYPE] = "Das Formular wurde in einem Format gesendet, "
		    "das dieser Dienst nicht annimmt.",
		[LANG_TOO_LARGE] = "Das Formular ist zu groß.",
		[LANG_TOO_MANY] = "Das Formular hat zu viele oder zu lange "
		    "Felder.",
		[LANG_VALUE_TOO_LARGE] = "Ein Feld ist zu lang.",
		[LANG_CAPTCHA_DOWN] = "Das Formular konnte nicht geprüft "
		    "werden. Bitte versuchen Sie es später noch einmal.",
		[LANG_DUPLICATE] = "Diese Nachricht wird gerade schon gesendet. "
		    "Bitte warten Sie einen Augenblick.",
		[LANG_NOT_CHECKED] = "Ihre Nachricht konnte nicht geprüft "
		    "werden. Bitte versuchen Sie es später noch einmal.",
		[LANG_NOT_STORED] = "Ihre Nachricht konnte nicht gespeichert "
		    "werden. Bitte versuchen Sie es später noch einmal.",
		[LANG_INTERNAL] = "Bei uns ist ein Fehler aufgetreten. Bitte "
		    "versuchen Sie es später noch einmal.",
		[LANG_CHALLENGE_ONLY] = "Diese Adresse liefert nur "
		    "Spam-Schutz-Aufgaben.",
		[LANG_POST_ONLY] = "Diese Adresse nimmt nur Formulare an.",
		[LANG_LABEL_CHALLENGE] = "Spam-Schutz",
		[LANG_LABEL_CAPTCHA] = "Captcha",
		[LANG_LABEL_FIELD] = "Ein Feld",
		[LANG_LINK_INVALID] = "Dieser Link ist ungültig oder "
		    "abgelaufen.",
	},
	[LANG_ES] = {
		[LANG_SEP] = ": ",
		[LANG_THANKS_TITLE] = "Gracias",
		[LANG_THANKS_TEXT] = "Hemos recibido su mensaje. Le "
		    "responderemos lo antes posible.",
		[LANG_REFERENCE] = "Referencia:",
		[LANG_BACK] = "Volver al sitio web",
		[LANG_CHECK_TITLE] = "Revise el formulario",
		[LANG_CHECK_TEXT] = "Hay campos que necesitan su atención:",
		[LANG_RATE_TEXT] = "Espere un momento antes de volver a enviar "
		    "este formulario.",
		[LANG_BAD_REQUEST] = "No se ha podido leer el formulario. "
		    "Vuelva atrás y envíelo de nuevo.",
		[LANG_NO_FORM] = "Este formulario no existe.",
		[LANG_TRY_LATER] = "Inténtelo de nuevo más tarde.",
		[LANG_NOT_HTTPS] = "Este formulario debe enviarse por HTTPS.",
		[LANG_BAD_ORIGIN] = "Este formulario no se puede enviar desde "
		    "ese sitio.",
		[LANG_BAD_TYPE] = "El formulario se ha enviado en un formato "
		    "que este servicio no admite.",
		[LANG_TOO_LARGE] = "El formulario es demasiado grande.",
		[LANG_TOO_MANY] = "El formulario tiene demasiados campos o "
		    "campos demasiado largos.",
		[LANG_VALUE_TOO_LARGE] = "Un campo es demasiado largo.",
		[LANG_CAPTCHA_DOWN] = "No se ha podido comprobar el formulario. "
		    "Inténtelo de nuevo más tarde.",
		[LANG_DUPLICATE] = "Este mensaje ya se está enviando. Espere "
		    "un momento.",
		[LANG_NOT_CHECKED] = "No se ha podido comprobar su mensaje. "
		    "Inténtelo de nuevo más tarde.",
		[LANG_NOT_STORED] = "No se ha podido guardar su mensaje. "
		    "Inténtelo de nuevo más tarde.",
		[LANG_INTERNAL] = "Se ha producido un error en nuestro sistema. "
		    "Inténtelo de nuevo más tarde.",
		[LANG_CHALLENGE_ONLY] = "Esta dirección solo entrega retos "
		    "antispam.",
		[LANG_POST_ONLY] = "Esta dirección solo recibe envíos de "
		    "formularios.",
		[LANG_LABEL_CHALLENGE] = "Antispam",
		[LANG_LABEL_CAPTCHA] = "Captcha",
		[LANG_LABEL_FIELD] = "Un campo",
		[LANG_LINK_INVALID] = "Este enlace no es válido o ha "
		    "caducado.",
	},
	[LANG_IT] = {
		[LANG_SEP] = ": ",
		[LANG_THANKS_TITLE] = "Grazie",
		[LANG_THANKS_TEXT] = "Abbiamo ricevuto il tuo messaggio. Ti "
		    "risponderemo al più presto.",
		[LANG_REFERENCE] = "Riferimento:",
		[LANG_BACK] = "Torna al sito",
		[LANG_CHECK_TITLE] = "Controlla il modulo",
		[LANG_CHECK_TEXT] = "Alcuni campi vanno corretti:",
		[LANG_RATE_TEXT] = "Attendi qualche istante prima di inviare "
		    "di nuovo il modulo.",
		[LANG_BAD_REQUEST] = "Non è stato possibile leggere il modulo. "
		    "Torna indietro e invialo di nuovo.",
		[LANG_NO_FORM] = "Questo modulo non esiste.",
		[LANG_TRY_LATER] = "Riprova più tardi.",
		[LANG_NOT_HTTPS] = "Questo modulo deve essere inviato tramite "
		    "HTTPS.",
		[LANG_BAD_ORIGIN] = "Questo modulo non può essere inviato da "
		    "quel sito.",
		[LANG_BAD_TYPE] = "Il modulo è stato inviato in un formato che "
		    "questo servizio non accetta.",
		[LANG_TOO_LARGE] = "Il modulo è troppo grande.",
		[LANG_TOO_MANY] = "Il modulo ha troppi campi o campi troppo "
		    "lunghi.",
		[LANG_VALUE_TOO_LARGE] = "Un campo è troppo lungo.",
		[LANG_CAPTCHA_DOWN] = "Non è stato possibile verificare il "
		    "modulo. Riprova più tardi.",
		[LANG_DUPLICATE] = "Questo messaggio è già in fase di invio. "
		    "Attendi un istante.",
		[LANG_NOT_CHECKED] = "Non è stato possibile verificare il tuo "
		    "messaggio. Riprova più tardi.",
		[LANG_NOT_STORED] = "Non è stato possibile salvare il tuo "
		    "messaggio. Riprova più tardi.",
		[LANG_INTERNAL] = "Si è verificato un errore da parte nostra. "
		    "Riprova più tardi.",
		[LANG_CHALLENGE_ONLY] = "Questo indirizzo fornisce solo le "
		    "verifiche antispam.",
		[LANG_POST_ONLY] = "Questo indirizzo accetta solo invii di "
		    "moduli.",
		[LANG_LABEL_CHALLENGE] = "Antispam",
		[LANG_LABEL_CAPTCHA] = "Captcha",
		[LANG_LABEL_FIELD] = "Un campo",
		[LANG_LINK_INVALID] = "Questo link non è valido o è scaduto.",
	},
	[LANG_NL] = {
		[LANG_SEP] = ": ",
		[LANG_THANKS_TITLE] = "Bedankt",
		[LANG_THANKS_TEXT] = "We hebben je bericht ontvangen en nemen "
		    "zo snel mogelijk contact met je op.",
		[LANG_REFERENCE] = "Referentie:",
		[LANG_BACK] = "Terug naar de website",
		[LANG_CHECK_TITLE] = "Controleer het formulier",
		[LANG_CHECK_TEXT] = "Een aantal velden moet nog worden "
		    "aangepast:",
		[LANG_RATE_TEXT] = "Wacht even voordat je dit formulier "
		    "opnieuw verstuurt.",
		[LANG_BAD_REQUEST] = "Het formulier kon niet worden gelezen. "
		    "Ga terug en verstuur het opnieuw.",
		[LANG_NO_FORM] = "Dit formulier bestaat niet.",
		[LANG_TRY_LATER] = "Probeer het later opnieuw.",
		[LANG_NOT_HTTPS] = "Dit formulier moet via HTTPS worden "
		    "verstuurd.",
		[LANG_BAD_ORIGIN] = "Dit formulier kan niet vanaf die website "
		    "worden verstuurd.",
		[LANG_BAD_TYPE] = "Het formulier is verstuurd in een formaat "
		    "dat deze dienst niet accepteert.",
		[LANG_TOO_LARGE] = "Het formulier is te groot.",
		[LANG_TOO_MANY] = "Het formulier heeft te veel of te lange "
		    "velden.",
		[LANG_VALUE_TOO_LARGE] = "Een veld is te lang.",
		[LANG_CAPTCHA_DOWN] = "Het formulier kon niet worden "
		    "gecontroleerd. Probeer het later opnieuw.",
		[LANG_DUPLICATE] = "Dit bericht wordt al verstuurd. Wacht een "
		    "ogenblik.",
		[LANG_NOT_CHECKED] = "Je bericht kon niet worden gecontroleerd. "
		    "Probeer het later opnieuw.",
		[LANG_NOT_STORED] = "Je bericht kon niet worden opgeslagen. "
		    "Probeer het later opnieuw.",
		[LANG_INTERNAL] = "Er ging bij ons iets mis. Probeer het later "
		    "opnieuw.",
		[LANG_CHALLENGE_ONLY] = "Dit adres geeft alleen "
		    "spamcontrole-opdrachten.",
		[LANG_POST_ONLY] = "Dit adres neemt alleen formulieren aan.",
		[LANG_LABEL_CHALLENGE] = "Spamcontrole",
		[LANG_LABEL_CAPTCHA] = "Captcha",
		[LANG_LABEL_FIELD] = "Een veld",
		[LANG_LINK_INVALID] = "Deze link is ongeldig of verlopen.",
	},
	[LANG_PT] = {
		[LANG_SEP] = ": ",
		[LANG_THANKS_TITLE] = "Obrigado",
		[LANG_THANKS_TEXT] = "Recebemos a sua mensagem. Entraremos em "
		    "contacto consigo em breve.",
		[LANG_REFERENCE] = "Referência:",
		[LANG_BACK] = "Voltar ao site",
		[LANG_CHECK_TITLE] = "Verifique o formulário",
		[LANG_CHECK_TEXT] = "Alguns campos precisam de ser corrigidos:",
		[LANG_RATE_TEXT] = "Aguarde um pouco antes de voltar a enviar "
		    "este formulário.",
		[LANG_BAD_REQUEST] = "Não foi possível ler o formulário. Volte "
		    "atrás e envie-o novamente.",
		[LANG_NO_FORM] = "Este formulário não existe.",
		[LANG_TRY_LATER] = "Tente novamente mais tarde.",
		[LANG_NOT_HTTPS] = "Este formulário tem de ser enviado por "
		    "HTTPS.",
		[LANG_BAD_ORIGIN] = "Este formulário não pode ser enviado a "
		    "partir desse site.",
		[LANG_BAD_TYPE] = "O formulário foi enviado num formato que "
		    "este serviço não aceita.",
		[LANG_TOO_LARGE] = "O formulário é demasiado grande.",
		[LANG_TOO_MANY] = "O formulário tem campos a mais ou campos "
		    "demasiado longos.",
		[LANG_VALUE_TOO_LARGE] = "Um dos campos é demasiado longo.",
		[LANG_CAPTCHA_DOWN] = "Não foi possível verificar o formulário. "
		    "Tente novamente mais tarde.",
		[LANG_DUPLICATE] = "Esta mensagem já está a ser enviada. "
		    "Aguarde um momento.",
		[LANG_NOT_CHECKED] = "Não foi possível verificar a sua "
		    "mensagem. Tente novamente mais tarde.",
		[LANG_NOT_STORED] = "Não foi possível guardar a sua mensagem. "
		    "Tente novamente mais tarde.",
		[LANG_INTERNAL] = "Ocorreu um erro do nosso lado. Tente "
		    "novamente mais tarde.",
		[LANG_CHALLENGE_ONLY] = "Este endereço só fornece desafios "
		    "antispam.",
		[LANG_POST_ONLY] = "Este endereço só recebe envios de "
		    "formulários.",
		[LANG_LABEL_CHALLENGE] = "Antispam",
		[LANG_LABEL_CAPTCHA] = "Captcha",
		[LANG_LABEL_FIELD] = "Um dos campos",
		[LANG_LINK_INVALID] = "Esta ligação não é válida ou expirou.",
	},
};

/* ---- validation codes --------------------------------------------- */

const char *const lang_text_codes[] = {
	"required", "max_length", "email", "invalid", "unknown", "letters",
	"choice", "challenge", "captcha", "type", "size", "file"
};

const char *const lang_text_code_texts[LANG_COUNT][LANG_NCODES] = {
	[LANG_EN] = {
		"is required.",
		"is too long.",
		"is not a valid email address.",
		"contains characters that are not allowed.",
		"is not a field of this form.",
		"must contain letters.",
		"is not one of the choices.",
		"check did not pass: please try again.",
		"check did not pass: please try again.",
		"is not a kind of file this form takes.",
		"is too large.",
		"cannot be a file: this form takes no attachments.",
	},
	[LANG_FR] = {
		"ce champ est obligatoire.",
		"le texte est trop long.",
		"l’adresse e-mail n’est pas valide.",
		"contient des caractères non autorisés.",
		"ce champ n’existe pas dans ce formulaire.",
		"doit contenir des lettres.",
		"ce choix n’existe pas.",
		"la vérification anti-spam a échoué, merci de réessayer.",
		"le captcha n’a pas été validé, merci de réessayer.",
		"ce type de fichier n’est pas accepté.",
		"le fichier est trop volumineux.",
		"ce formulaire n’accepte pas de pièce jointe.",
	},
	[LANG_DE] = {
		"Bitte füllen Sie dieses Feld aus.",
		"Der Text ist zu lang.",
		"Bitte geben Sie eine gültige E-Mail-Adresse an.",
		"Enthält unzulässige Zeichen.",
		"Dieses Feld gehört nicht zum Formular.",
		"Muss Buchstaben enthalten.",
		"Bitte wählen Sie eine der angebotenen Möglichkeiten.",
		"Die Prüfung ist fehlgeschlagen. Bitte versuchen Sie es "
		    "erneut.",
		"Das Captcha wurde nicht bestätigt. Bitte versuchen Sie es "
		    "erneut.",
		"Dieser Dateityp wird nicht angenommen.",
		"Die Datei ist zu groß.",
		"Dieses Formular nimmt keine Dateianhänge an.",
	},
	[LANG_ES] = {
		"este campo es obligatorio.",
		"el texto es demasiado largo.",
		"la dirección de correo electrónico no es válida.",
		"contiene caracteres no permitidos.",
		"este campo no forma parte del formulario.",
		"debe contener letras.",
		"no es una de las opciones disponibles.",
		"la comprobación no se ha superado; inténtelo de nuevo.",
		"el captcha no se ha validado; inténtelo de nuevo.",
		"no se admite este tipo de archivo.",
		"el archivo es demasiado grande.",
		"este formulario no admite archivos adjuntos.",
	},
	[LANG_IT] = {
		"questo campo è obbligatorio.",
		"il testo è troppo lungo.",
		"l’indirizzo email non è valido.",
		"contiene caratteri non consentiti.",
		"questo campo non fa parte del modulo.",
		"deve contenere delle lettere.",
		"non è tra le opzioni disponibili.",
		"la verifica non è riuscita, riprova.",
		"il captcha non è stato superato, riprova.",
		"questo tipo di file non è accettato.",
		"il file è troppo grande.",
		"questo modulo non accetta allegati.",
	},
	[LANG_NL] = {
		"dit veld is verplicht.",
		"de tekst is te lang.",
		"dit is geen geldig e-mailadres.",
		"bevat tekens die niet zijn toegestaan.",
		"dit veld hoort niet bij dit formulier.",
		"moet letters bevatten.",
		"dit is geen van de beschikbare keuzes.",
		"de controle is mislukt, probeer het opnieuw.",
		"de captcha is niet gelukt, probeer het opnieuw.",
		"dit bestandstype wordt niet geaccepteerd.",
		"het bestand is te groot.",
		"dit formulier accepteert geen bijlagen.",
	},
	[LANG_PT] = {
		"este campo é obrigatório.",
		"o texto é demasiado longo.",
		"o endereço de e-mail não é válido.",
		"contém caracteres que não são permitidos.",
		"este campo não faz parte do formulário.",
		"deve conter letras.",
		"não é uma das opções disponíveis.",
		"a verificação falhou. Tente novamente.",
		"o captcha não foi validado. Tente novamente.",
		"este tipo de ficheiro não é aceite.",
		"o ficheiro é demasiado grande.",
		"este formulário não aceita anexos.",
	},
};

/* ---- status titles ------------------------------------------------ */

const int lang_text_statuses[] = { 400, 403, 404, 405, 413, 415, 429,
    500, 503 };

const char *const lang_text_titles[LANG_COUNT][LANG_NSTATUS] = {
	[LANG_EN] = { "Bad request", "Not allowed", "Not found",
	    "Method not allowed", "Too large", "Unsupported format",
	    "Too many requests", "Internal error", "Service unavailable" },
	[LANG_FR] = { "Requête invalide", "Accès refusé", "Introuvable",
	    "Méthode non autorisée", "Envoi trop volumineux",
	    "Format non pris en charge", "Trop de demandes", "Erreur interne",
	    "Service indisponible" },
	[LANG_DE] = { "Ungültige Anfrage", "Zugriff verweigert",
	    "Nicht gefunden", "Methode nicht erlaubt", "Zu groß",
	    "Format nicht unterstützt", "Zu viele Anfragen", "Interner Fehler",
	    "Dienst nicht verfügbar" },
	[LANG_ES] = { "Solicitud no válida", "Acceso denegado",
	    "No encontrado", "Método no permitido", "Demasiado grande",
	    "Formato no admitido", "Demasiadas solicitudes", "Error interno",
	    "Servicio no disponible" },
	[LANG_IT] = { "Richiesta non valida", "Accesso negato", "Non trovato",
	    "Metodo non consentito", "Troppo grande", "Formato non supportato",
	    "Troppe richieste", "Errore interno", "Servizio non disponibile" },
	[LANG_NL] = { "Ongeldig verzoek", "Geen toegang", "Niet gevonden",
	    "Methode niet toegestaan", "Te groot", "Formaat niet ondersteund",
	    "Te veel verzoeken", "Interne fout", "Dienst niet beschikbaar" },
	[LANG_PT] = { "Pedido inválido", "Acesso negado", "Não encontrado",
	    "Método não permitido", "Demasiado grande", "Formato não suportado",
	    "Demasiados pedidos", "Erro interno", "Serviço indisponível" },
};
