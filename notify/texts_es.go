package notify

// Spanish texts, addressed with "usted" as in the source articles.
var textsES = map[Kind]text{
	KindLoginCodeSMS: {
		subject: `Su código de seguridad de SLS`,
		body:    `SLS: su código de seguridad es {{.Code}}. No lo comparta con nadie; SLS nunca se lo pedirá.`,
	},
	KindLoginCodeVoice: {
		subject: `Su código de seguridad de SLS`,
		body:    `Hola, le llamamos de SLS. Su código de seguridad es: {{digits .Code}}. No comparta este código con nadie.`,
	},
	KindPhoneVerifyCode: {
		subject: `Verificación de su número de móvil`,
		body:    `SLS: su código de confirmación para verificar este número de móvil es {{.Code}}. Si no lo ha solicitado, ignore este mensaje.`,
	},
	KindPasswordResetCode: {
		subject: `Su código para establecer una contraseña nueva`,
		body:    `SLS: su código para una contraseña nueva es {{.Code}}, válido hasta {{.Until}}. Nadie de SLS se lo pedirá.`,
	},
	KindIBKeyActivationCode: {
		subject: `Su código de activación de IB Key`,
		body:    `SLS: su código de activación de IB Key es {{.Code}}. Introdúzcalo en Añadir usuario, en la aplicación. No lo comparta con nadie.`,
	},
	KindTempPasscodeIssued: {
		subject: `Se ha emitido un código de acceso temporal`,
		body: `Atención al Cliente ha emitido un código de acceso temporal para el usuario {{.Username}}: acceso completo hasta el {{.FullUntil}}; después, solo Client Portal hasta el {{.PortalUntil}}. ` +
			`Si no lo ha pedido usted, contáctenos de inmediato.`,
	},
	KindDeviceActivated: {
		subject: `Nuevo dispositivo de seguridad activado`,
		body:    `Se ha activado un nuevo dispositivo de seguridad ({{device .Device}}) para su usuario el {{.Time}}. Si no ha sido usted, contacte de inmediato con Atención al Cliente.`,
	},
	KindNewLogin: {
		subject: `Nuevo inicio de sesión en su cuenta`,
		body:    `SLS: inicio de sesión desde un navegador, aplicación o red nuevos: {{.Platform}}, red {{.Address}}, {{.Time}}. Si no ha sido usted, cambie su contraseña y contacte de inmediato con Atención al Cliente.`,
	},
	KindDeviceShipped: {
		subject: `Su dispositivo de seguridad ha sido enviado`,
		body:    `Su dispositivo de seguridad ({{device .Device}}) ha sido enviado por {{.Carrier}}, número de seguimiento {{.Tracking}}. Si no lo ha solicitado, contacte con Atención al Cliente.`,
	},
	KindDeviceDelivered: {
		subject: `Su dispositivo de seguridad ha sido entregado`,
		body: `Su dispositivo de seguridad ({{device .Device}}) ha sido entregado. Por seguridad, se activará solo tres semanas después de la entrega; puede activarlo antes en Client Portal. ` +
			`Si no lo ha recibido, contacte de inmediato con Atención al Cliente.`,
	},
	KindAutoActivationComing: {
		subject: `Su dispositivo de seguridad se activará pronto`,
		body:    `Su dispositivo de seguridad ({{device .Device}}) se activará automáticamente el {{.Date}}. A partir de entonces lo necesitará para iniciar sesión. Si no tiene este dispositivo, contacte con Atención al Cliente antes de esa fecha.`,
	},
	KindDeviceAutoActivated: {
		subject: `Su dispositivo de seguridad se ha activado`,
		body:    `Su dispositivo de seguridad ({{device .Device}}) se ha activado automáticamente y ahora es necesario para iniciar sesión. Si no tiene este dispositivo, contacte de inmediato con Atención al Cliente.`,
	},
	KindPhoneNumberChanged: {
		subject: `Se ha cambiado su número de móvil`,
		body: `El número de móvil de su usuario de SLS se ha cambiado a uno que termina en {{.NumberEnding}}. Por seguridad, el inicio de sesión con código SMS queda suspendido hasta el {{.Until}}. ` +
			`Si no ha realizado este cambio, contacte de inmediato con Atención al Cliente.`,
	},
	KindPushDenied: {
		subject: `Solicitud de inicio de sesión denegada`,
		body: `Se denegó una solicitud de inicio de sesión enviada a su IB Key el {{.Time}} ({{.Platform}}, {{.Address}}). ` +
			`Si no ha sido usted, es posible que otra persona conozca su contraseña: cámbiela y contacte con Atención al Cliente.`,
	},
	KindPushFlood: {
		subject: `Varias solicitudes de inicio de sesión sin aprobar`,
		body: `Desde el {{.Since}} se han enviado a su IB Key {{.Count}} solicitudes de inicio de sesión que no se han aprobado. ` +
			`Si no ha sido usted, no apruebe ninguna solicitud, cambie su contraseña y contacte con Atención al Cliente.`,
	},
	KindLoginRefusedIP: {
		subject: `Inicio de sesión rechazado: dirección no autorizada`,
		body:    `Se rechazó un inicio de sesión en {{.Platform}} con su contraseña desde {{.Address}} ({{.Time}}), fuera de su lista de IP. Si no fue usted, cambie su contraseña y llame al Servicio al Cliente.`,
	},
	KindPasswordChanged: {
		subject: `Se cambió su contraseña`,
		body:    `La contraseña de su usuario de SLS se cambió ({{.How}}) el {{.Time}}. Sus demás sesiones terminaron. Si no fue usted, comuníquese de inmediato con Client Services.`,
	},
	KindPasswordGuessing: {
		subject: `Muchas contraseñas incorrectas para su usuario`,
		body:    `Se probaron {{.Count}} contraseñas incorrectas para su usuario: los inicios de sesión desde navegadores y aplicaciones nuevos quedan en espera un tiempo. Los que ya usó siguen funcionando.`,
	},
	KindSecureMessageSummary: {
		subject: `Nuevo mensaje seguro en su Centro de mensajes`,
		body: `Tiene un nuevo mensaje seguro: "{{.Summary}}". Por su seguridad, el mensaje solo puede leerse en el Centro de mensajes de Client Portal. ` +
			`Inicie sesión para leerlo.`,
	},
	KindReturnReceived: {
		subject: `Hemos recibido su dispositivo de seguridad devuelto`,
		body:    `Hemos recibido el dispositivo de seguridad que nos devolvió ({{device .Device}}). Gracias.`,
	},
	KindDepositReleased: {
		subject: `Se ha liberado el depósito de su dispositivo`,
		body:    `Se ha liberado el depósito de {{.Amount}} retenido por su dispositivo de seguridad ({{device .Device}}).`,
	},
	KindDepositForfeited: {
		subject: `Se ha retenido el depósito de su dispositivo`,
		body:    `El depósito de {{.Amount}} retenido por su dispositivo de seguridad ({{device .Device}}) se conserva como compensación (dispositivo perdido, robado, dañado o no devuelto). ¿Error? Contacte con Atención al Cliente.`,
	},
	KindTakeoverReported: {
		subject: `Su cuenta está bloqueada tras su aviso`,
		body:    `El {{.Time}} nos avisó de que un cambio o un inicio de sesión no fue suyo. Su usuario está bloqueado y todas las sesiones terminaron; los retiros y los cambios están detenidos. Llame a Client Services para revisar su cuenta y desbloquearla.`,
	},
	KindSecurityAlert: {
		subject: `Toma de control avisada por el usuario {{.Username}}`,
		body:    `El usuario {{.Username}} avisó "no fui yo" ({{.Via}}, desde {{.Network}}) el {{.Time}}. Está bloqueado y sus sesiones terminaron. Revise la auditoría y llame al cliente antes de desbloquear.`,
	},
	KindBankingChanged: {
		subject: `Se cambiaron sus instrucciones bancarias`,
		body:    `SLS: la cuenta para sus retiros se cambió a {{.Account}} el {{.Time}}. Si no hizo este cambio, avísenos de inmediato con el enlace de abajo o llame a Client Services.`,
	},
}
